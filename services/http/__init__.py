"""The one HTTP face: the JSON API (`api/`), the server-rendered pages (`pages/`), and what both
share: problem details (`problems`) and file responses (`downloads`)."""
