"""The grassroots service's domain: party organisations, branch elections, members developed in the open."""
