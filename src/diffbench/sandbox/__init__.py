"""Confined children for untrusted code: how a child is confined (confinement), a one-shot child that writes its
result to a file (oneshot), and a long-lived child that answers commands over pipes (session)."""
