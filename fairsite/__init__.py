"""fairsite: job fairs and livestream recruiting for district employment bureaus.

The app factory is fairsite.app.create_app; this package file stays empty so that importing
any module of the ground floor (fairsite.clock, fairsite.sql...) loads nothing else."""
