"""One Textual screen per job. Screens call domain functions; they never build SQL."""
