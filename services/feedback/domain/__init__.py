"""The public's channels in, in plain Python: submissions, routing, deadlines, replies."""
