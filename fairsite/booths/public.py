"""booths: public views."""
