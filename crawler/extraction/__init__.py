"""Page bytes -> Article: main text, declared metadata, paywall evidence."""
