"""The WSGI entry point gunicorn serves."""
from fairsite.app import create_app

app = create_app()
