"""What people read: the digest and its delivery, reports, the Datasette view."""
