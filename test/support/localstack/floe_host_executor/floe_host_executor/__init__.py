"""LocalStack Lambda executor running each Node.js function as a host process (see README.md)."""
