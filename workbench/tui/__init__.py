"""The Textual front end. Everything here is presentation: it calls the core and shows the answers."""
