"""Uploaded files: recognising them, cleaning them, storing them, naming them.

    sniff.py       what a file is, by its bytes (never its name or declared type)
    images.py      images: orientation, resizing, preview, blurhash, no metadata
    av.py          video and audio: metadata removal; poster and duration by ffmpeg
    store.py       where the bytes live (``MediaStore``; a local directory by default)
    urls.py        the URLs apps are given, signed where the post is not public

Nothing here knows about accounts or posts: roost/domain/media/ decides who owns
and who may see an attachment.
"""
