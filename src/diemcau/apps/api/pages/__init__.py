"""The server-rendered HTML pages (portal, player, quizzes, search, staff home), their one Jinja environment, the
hub links they show and the static assets they link."""
