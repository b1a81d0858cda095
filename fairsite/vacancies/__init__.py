"""vacancies domain."""
