"""The acceleration knowledge base: per method, templates per family, parameters, compatibility, insights and
a runtime detector. Each method is a folder under `methods/`; adding a method means adding a folder."""

from diffbench.knowledge.loader import KnowledgeBase, load_knowledge

__all__ = ["KnowledgeBase", "load_knowledge"]
