"""The WSGI entry point gunicorn serves."""
from fairsite import create_app

app = create_app()
