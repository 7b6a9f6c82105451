"""The ``presswatch`` command line: thin click commands over the library."""
