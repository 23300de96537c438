"""The JSON API (`/api/v1`): controllers parse, call one use case or view, and return."""
