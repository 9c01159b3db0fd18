"""Web layer: the aiohttp ingress app, a thin JSON API over the inspection jobs.

Handlers translate HTTP requests into job calls and findings into JSON; they
hold no format logic and never run blocking engine code on the event loop.
Ingress rules (peer allow-list, relative URLs, paths and passwords only in
POST JSON bodies, streamed downloads) live only here.
"""
