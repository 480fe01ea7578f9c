"""Pluggable providers, one base class per stage, found through ``registry``."""
