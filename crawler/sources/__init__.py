"""Where article links come from: feeds, sitemaps, section pages, and discovering them."""
