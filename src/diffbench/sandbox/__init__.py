"""Confined children for untrusted code: how a child is confined (confinement: namespaces and a read-only view;
readonly: the fallback's mount set-up; cgroups: memory and process limits), a one-shot child that writes its
result to a file (oneshot), and a long-lived child that answers commands over pipes (session)."""
