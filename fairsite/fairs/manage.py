"""fairs: organisers' management views."""
