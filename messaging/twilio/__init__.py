"""Twilio as a channel: its errors (errors), its HTTP (http) and the transports that send (transport)."""
