"""Timelines: which posts belong on whose, the one definition of those rules.

rules.py says which posts belong on a home timeline (and to whom a new post
goes); quiet.py what a viewer's mutes, blocks and exclusive lists keep off it
for now; reads.py serves every timeline through the privacy policy; cached.py
describes home and list timelines to a store that caches their ids
(roost/timelines/), and fanout.py tells such a store what changed.
"""
