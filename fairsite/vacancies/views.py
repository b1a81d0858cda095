"""vacancies: views views."""
