"""Importing a Twitter archive (``roost import twitter``, or an upload through
``POST /api/v1/roost/imports``).

    archive.py   opening the zip, folder or bare tweets.js safely, with limits
    layout.py    where each kind of data sits (manifest.js, or file names)
    parse.py     the window.YTD.<name>.partN = [...] files, streamed
    tweets.py    one tweet as the importer needs it; dates without the locale
    notes.py     long posts: note-tweet.js joined to their tweets
    mapping.py   a tweet's text as a post: links expanded, handles to Twitter
    scan.py      the first pass: read everything before writing anything
    phases.py    the second pass: posts, threads, likes, lists, messages
    store.py     writing imported posts (no fan-out, no notifications)
    links.py     replies and links joined once their targets are imported
    records.py   likes, follower/following/block/mute lists, direct messages
    media.py     media and profile images, through roost/domain/media
    profile.py   display name, bio, website
    runs.py      import runs: options, progress, report, resuming
    run.py       one import from start to end
    job.py       the background jobs (uploads, search indexing)
    queries.py   reading back what the owner's imports kept
"""
