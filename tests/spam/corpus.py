"""A deterministic corpus for the spam-wave drill and benchmark: ordinary
posts by established accounts, and a wave of near duplicates by new ones.

Ordinary posts are two or three sentences, each from a different one of
many sentence shapes with their own word choices, over a dozen subjects;
some carry a link (to one of many sites), a mention of another ordinary
account or a hashtag; a few are the short greetings people really do post
alike ("good morning everyone"). The wave is one advertisement written many
ways: every slot (verb, adjective, product, call to action, urgency, the
closing) has several wordings, the link's domain is one of three and its path
differs every time, it mentions one or two ordinary accounts, and its
capitals, punctuation and emoji vary.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SEED = 58

SUBJECTS = {
    "garden": ["tomatoes", "the roses", "our apple tree", "the courgettes", "basil", "the lawn"],
    "cooking": ["sourdough", "a lentil soup", "the curry", "pancakes", "a plum tart", "risotto"],
    "cycling": ["the hill route", "my old bike", "the canal path", "a flat tyre", "the headwind"],
    "books": ["a Le Guin novel", "that memoir", "the library copy", "a thick atlas", "poems"],
    "music": ["the choir", "my cello", "a new record", "the band downstairs", "a chord change"],
    "code": ["the parser", "a flaky test", "the migration", "our build", "a memory leak"],
    "cats": ["the cat", "both kittens", "the neighbour's tabby", "a very loud cat"],
    "transit": ["the night bus", "the tram", "platform four", "the ferry", "the early train"],
    "photo": ["the old lens", "a roll of film", "the harbour at dusk", "fog on the river"],
    "weather": ["the rain", "a cold front", "the first frost", "sunshine", "the wind"],
    "work": ["the meeting", "my inbox", "the quarterly report", "a long call", "the deadline"],
    "hiking": ["the ridge", "a muddy trail", "the summit cairn", "the valley", "a stone hut"],
}

SHAPES = [
    "Spent the {time} with {thing} and honestly it was {mood}.",
    "Does anyone else think {thing} gets {comparison} every {period}?",
    "Quick update: {thing} is finally {state} after {duration}.",
    "I keep forgetting how {mood} {thing} can be on a {day}.",
    "Note to self: never start {thing} right before {event}.",
    "{Thing} turned out {state}, which I did not expect at all.",
    "Three things today: {thing}, {other}, and far too much coffee.",
    "If you are near the {place}, {thing} is worth a look this {period}.",
    "Half the {time} went on {thing}; the other half on {other}.",
    "Small victory: {thing} behaved for once, so {mood} evening ahead.",
    "Asked my {relative} about {thing} and got a twenty minute answer.",
    "Reading about {thing} again and the history is {mood}.",
    "The {day} plan was {thing}, the actual day was {other}.",
    "Can confirm {thing} is {comparison} than last {period}.",
    "Finally wrote down what I learned from {thing} over {duration}.",
    "Nobody warned me that {thing} would take {duration}.",
    "Tried {thing} with {other} and the combination is {mood}.",
    "Tiny thread about {thing}, since a few of you asked.",
    "Our {relative} brought {thing} home and now the {place} smells of it.",
    "Woke up thinking about {thing}; still not sure why.",
    "Is {thing} supposed to look like that after {duration}?",
    "Went back to {thing} after {duration} and it felt {mood}.",
    "Today I learned {thing} has a whole club at the {place}.",
    "Recommending {thing} to everyone who asked about {other}.",
]

FILL = {
    "time": ["morning", "afternoon", "evening", "whole weekend", "lunch break", "night"],
    "mood": ["lovely", "exhausting", "strange", "calming", "hilarious", "bittersweet", "great"],
    "comparison": ["louder", "slower", "better", "stranger", "busier", "quieter", "pricier"],
    "period": ["year", "spring", "winter", "month", "season", "summer", "week"],
    "state": ["done", "working", "ripe", "fixed", "back on track", "in one piece", "ready"],
    "duration": ["three weeks", "a long month", "two hours", "ages", "six days", "a year"],
    "day": ["Monday", "Tuesday", "rainy Thursday", "Saturday", "Sunday", "bank holiday"],
    "event": ["dinner guests arrive", "a long trip", "bedtime", "a deadline", "the match"],
    "place": ["market", "station", "harbour", "old mill", "community hall", "park", "library"],
    "relative": ["sister", "grandad", "aunt", "flatmate", "neighbour", "colleague", "son"],
}

SITES = [
    "wikipedia.org", "bbc.co.uk", "theguardian.com", "github.com", "youtube.com",
    "archive.org", "nytimes.com", "arstechnica.com", "lwn.net", "bandcamp.com",
    "flickr.com", "openstreetmap.org", "seriouseats.com", "rhs.org.uk", "gutenberg.org",
    "python.org", "nasa.gov", "metoffice.gov.uk", "strava.com", "komoot.com",
]  # fmt: skip

GREETINGS = [
    "Good morning everyone!",
    "Happy Friday, folks.",
    "Goodnight all.",
    "Coffee first, then everything else.",
    "What a week.",
]

WAVE_SLOTS = {
    "verb": ["Claim", "Grab", "Get", "Collect", "Secure"],
    "adj": ["free", "bonus", "exclusive", "instant", "guaranteed"],
    "product": ["crypto reward", "token airdrop", "coin giveaway", "wallet bonus"],
    "action": ["connect your wallet", "verify your wallet", "sign in with your wallet"],
    "urgency": ["before it ends", "while supplies last", "today only", "before midnight"],
    "close": ["Don't miss out", "Thank me later", "Act fast", "You deserve it", "Hurry up"],
}
WAVE_SHAPES = [
    "{verb} your {adj} {product} now at {link} — just {action} {urgency}! "
    "Only {n} spots left. {close} {mentions}",
    "{mentions} {verb} your {adj} {product} at {link}: {action} {urgency}, "
    "only {n} spots left! {close}",
    "{close}! {verb} your {adj} {product} now — {action} at {link} {urgency}. "
    "Only {n} spots left {mentions}",
]
WAVE_DOMAINS = ["claim-bonus.example", "airdrop-now.example", "wallet-gift.example"]
EMOJI = ["", " 🚀", " 💰🔥", " ✅", " 🎁🎁"]


@dataclass(frozen=True)
class Post:
    author: int  # index into the ordinary or the wave accounts
    text: str
    wave: bool


NOUNS = [
    "garden",
    "tomato",
    "rose",
    "apple",
    "courgette",
    "basil",
    "lawn",
    "bread",
    "soup",
    "curry",
    "pancake",
    "tart",
    "risotto",
    "bike",
    "canal",
    "tyre",
    "hill",
    "novel",
    "memoir",
    "atlas",
    "poem",
    "choir",
    "cello",
    "record",
    "band",
    "parser",
    "test",
    "build",
    "leak",
    "cat",
    "kitten",
    "bus",
    "tram",
    "platform",
    "ferry",
    "train",
    "lens",
    "film",
    "harbour",
    "river",
    "fog",
    "rain",
    "frost",
    "sunshine",
    "wind",
    "meeting",
    "inbox",
    "report",
    "deadline",
    "ridge",
    "trail",
    "summit",
    "valley",
    "hut",
    "kettle",
    "teapot",
    "window",
    "balcony",
    "neighbour",
    "sister",
    "grandad",
    "aunt",
    "flatmate",
    "colleague",
    "market",
    "station",
    "mill",
    "hall",
    "park",
    "library",
    "museum",
    "bakery",
    "bookshop",
    "allotment",
    "pond",
    "bridge",
    "lighthouse",
    "beach",
    "cliff",
    "forest",
    "meadow",
    "orchard",
    "castle",
    "chapel",
    "garage",
    "workshop",
    "studio",
    "kitchen",
    "attic",
    "cellar",
    "shed",
    "fence",
    "gate",
    "ladder",
    "hammer",
    "spreadsheet",
    "keyboard",
    "laptop",
    "printer",
    "router",
    "server",
    "database",
    "compiler",
    "recipe",
    "oven",
    "stove",
    "jar",
    "jam",
    "marmalade",
    "honey",
    "cheese",
    "mushroom",
    "onion",
    "garlic",
    "pepper",
    "lemon",
    "orange",
    "pear",
    "plum",
    "cherry",
    "violin",
    "piano",
    "guitar",
    "drum",
    "album",
    "concert",
    "festival",
    "podcast",
    "documentary",
    "episode",
    "chapter",
    "essay",
    "puzzle",
    "crossword",
    "chess",
    "game",
    "match",
    "goal",
    "referee",
    "umbrella",
    "scarf",
    "glove",
    "boot",
    "jacket",
    "hat",
]
ADJECTIVES = [
    "old",
    "new",
    "small",
    "huge",
    "quiet",
    "loud",
    "early",
    "late",
    "cold",
    "warm",
    "damp",
    "sunny",
    "grey",
    "bright",
    "dark",
    "strange",
    "lovely",
    "tired",
    "busy",
    "slow",
    "quick",
    "cheap",
    "dear",
    "odd",
    "tiny",
    "heavy",
    "light",
    "soft",
    "sharp",
    "sweet",
    "sour",
    "bitter",
    "fresh",
    "stale",
    "muddy",
    "dusty",
    "shiny",
    "rusty",
    "broken",
    "patched",
    "borrowed",
    "local",
    "distant",
    "familiar",
]
VERBS = [
    "fixed",
    "painted",
    "baked",
    "cleaned",
    "found",
    "lost",
    "borrowed",
    "returned",
    "planted",
    "watered",
    "repaired",
    "visited",
    "photographed",
    "sketched",
    "read",
    "finished",
    "started",
    "rewrote",
    "tested",
    "debugged",
    "cooked",
    "tasted",
    "carried",
    "dropped",
    "opened",
    "closed",
    "measured",
    "weighed",
    "counted",
    "sorted",
    "labelled",
    "moved",
    "rebuilt",
    "recorded",
    "played",
    "practised",
    "climbed",
    "crossed",
    "walked",
    "cycled",
    "missed",
    "caught",
    "watched",
    "heard",
]
ADVERBS = [
    "finally",
    "slowly",
    "carefully",
    "quickly",
    "badly",
    "happily",
    "barely",
    "nearly",
    "twice",
    "again",
    "already",
    "still",
]
TIMES = (
    "this morning",
    "last night",
    "on Sunday",
    "after lunch",
    "before work",
    "at dawn",
    "yesterday",
    "over the weekend",
    "in the rain",
    "after dinner",
    "on the way home",
)
OPENERS = ("", "", "", "So ", "Well, ", "Honestly, ", "Today ", "Update: ", "Fun fact: ")
CLOSERS = (
    "",
    "",
    "",
    " Worth it.",
    " Never again.",
    " More soon.",
    " Any tips?",
    " Ha.",
    " Still smiling.",
    " Long story.",
)
PATTERNS = (
    "{opener}I {adverb} {verb} the {adj} {noun} {time}.",
    "{opener}the {noun} next to the {noun2} is {adj} again.",
    "{opener}my {noun} and the {adj} {noun2} do not get along.",
    "{opener}we {verb} a {adj} {noun} for the {noun2} {time}.",
    "Who else {verb} their {noun} {time}? Mine is {adj} now.",
    "{opener}a {adj} {noun}, a {adj2} {noun2} and no {noun3} at all.",
    "{opener}the {noun} {verb} itself {time}, apparently.",
    "{opener}{time} I {verb} {noun}s with my {noun2}.",
    "Thinking about the {adj} {noun} we {verb} {time}.",
    "{opener}there is a {adj} {noun} in the {noun2} and nobody knows why.",
)


def _sentence(rng: random.Random) -> str:
    values = {
        "opener": rng.choice(OPENERS),
        "adverb": rng.choice(ADVERBS),
        "verb": rng.choice(VERBS),
        "adj": rng.choice(ADJECTIVES),
        "adj2": rng.choice(ADJECTIVES),
        "noun": rng.choice(NOUNS),
        "noun2": rng.choice(NOUNS),
        "noun3": rng.choice(NOUNS),
        "time": rng.choice(TIMES),
    }
    text = rng.choice(PATTERNS).format(**values) + rng.choice(CLOSERS)
    return text[0].upper() + text[1:]


def _ordinary_text(rng: random.Random, usernames: list[str]) -> str:
    if rng.random() < 0.15:
        # The sort of sentence many people write alike.
        subject = rng.choice(list(SUBJECTS))
        values = {key: rng.choice(words) for key, words in FILL.items()}
        thing = rng.choice(SUBJECTS[subject])
        values["thing"], values["Thing"] = thing, thing[0].upper() + thing[1:]
        values["other"] = rng.choice(SUBJECTS[rng.choice(list(SUBJECTS))])
        first = rng.choice(SHAPES).format(**values)
    else:
        first = _sentence(rng)
    text = " ".join([first] + [_sentence(rng) for _ in range(rng.choice((0, 1, 1, 2)))])
    roll = rng.random()
    if roll < 0.25:
        text += f" https://{rng.choice(SITES)}/{rng.randrange(10**6)}"
    elif roll < 0.4:
        text += f" @{rng.choice(usernames)}"
    elif roll < 0.5:
        text += f" #{rng.choice(list(SUBJECTS))}"
    return text


def _wave_text(rng: random.Random, usernames: list[str]) -> str:
    values = {key: rng.choice(words) for key, words in WAVE_SLOTS.items()}
    domain = rng.choice(WAVE_DOMAINS)
    values["link"] = f"https://{domain}/r/{rng.randrange(16**6):06x}"
    values["n"] = str(rng.randrange(3, 60))
    values["mentions"] = " ".join(f"@{u}" for u in rng.sample(usernames, rng.choice((1, 2))))
    text = rng.choice(WAVE_SHAPES).format(**values) + rng.choice(EMOJI)
    if rng.random() < 0.2:
        text = text.upper()
    return text.strip()


def corpus(
    *,
    ordinary_posts: int = 2000,
    ordinary_accounts: int = 300,
    wave_posts: int = 200,
    wave_accounts: int = 50,
    usernames: list[str] | None = None,
) -> list[Post]:
    """The posts in the order they are posted: the wave mixed in among the
    ordinary posts (each wave account posts ``wave_posts // wave_accounts``).
    ``usernames``: the ordinary accounts' names, for mentions."""
    rng = random.Random(SEED)
    names = usernames or [f"person{i}" for i in range(ordinary_accounts)]
    posts = []
    for _ in range(ordinary_posts):
        author = rng.randrange(ordinary_accounts)
        if rng.random() < 0.01:
            posts.append(Post(author, rng.choice(GREETINGS), wave=False))
        else:
            posts.append(Post(author, _ordinary_text(rng, names), wave=False))
    wave = [Post(n % wave_accounts, _wave_text(rng, names), wave=True) for n in range(wave_posts)]
    # The wave arrives within a stretch of the ordinary traffic, as waves do.
    start = rng.randrange(ordinary_posts // 4)
    stretch = posts[start : start + ordinary_posts // 2]
    mixed = stretch + wave
    rng.shuffle(mixed)
    return posts[:start] + mixed + posts[start + ordinary_posts // 2 :]
