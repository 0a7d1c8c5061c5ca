"""The web workbench and the Open311 API, served by the bot's own process."""
