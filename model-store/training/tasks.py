"""Seeded synthetic long-context tasks (see TASKS.md for the exact templates).

Every generator takes a `random.Random`, a filler source and a target length in tokens, and returns
(prompt_text, answer_text, meta). The document is natural text (State of the Union speeches) with the task's
sentences inserted at uniformly random depths; the question comes last, so answering needs attention that reaches
back to the inserted sentence.
"""
import random

WORDS = ["apple", "river", "stone", "cloud", "maple", "tiger", "ocean", "piano", "silver", "garden", "rocket",
         "candle", "forest", "mirror", "falcon", "copper", "lemon", "harbor", "velvet", "meadow", "comet", "island",
         "marble", "canyon", "orchid", "thunder", "willow", "bamboo", "crystal", "desert", "ember", "glacier",
         "lantern", "nectar", "pepper", "quartz", "saddle", "tulip", "violet", "walnut"]
ADJECTIVES = ["red", "blue", "green", "small", "large", "quiet", "bright", "old", "young", "golden", "dark", "swift"]
NOUNS = ["fox", "owl", "ship", "clock", "horse", "bridge", "tower", "engine", "violin", "wagon", "lamp", "kettle"]
PLACES = ["Boston", "Denver", "Paris", "Cairo", "Lima", "Oslo", "Tokyo", "Dublin", "Austin", "Quebec", "Madrid",
          "Nairobi"]

PASSKEY_QUESTION = "\nWhat is the pass key? The pass key is"
FACTS_QUESTION = "\nList the facts in order:"


class Filler:
    """Random spans of whole sentences from a list of speech texts."""

    def __init__(self, texts):
        self.sentences = []
        for t in texts:
            self.sentences.extend(s.strip() + "." for s in t.split(". ") if len(s.strip()) > 3)

    def text(self, rng, n_chars):
        start = rng.randrange(len(self.sentences))
        out, size, i = [], 0, start
        while size < n_chars:
            s = self.sentences[i % len(self.sentences)]
            out.append(s)
            size += len(s) + 1
            i += 1
        return out  # list of sentences


def _assemble(rng, tok, filler, n_tokens, inserts, question):
    """Builds a document of about n_tokens tokens (prompt included) with `inserts` (in order) at random depths."""
    q_tokens = len(tok.encode(question)) + sum(len(tok.encode(" " + s)) for s in inserts)
    budget = max(16, n_tokens - q_tokens - 8)
    sentences = filler.text(rng, int(budget * 4.6))
    # trim the filler to the token budget
    ids_per_sentence = [len(tok.encode(" " + s)) for s in sentences]
    keep, total = [], 0
    for s, n in zip(sentences, ids_per_sentence):
        if total + n > budget:
            break
        keep.append(s)
        total += n
    positions = sorted(rng.randint(0, len(keep)) for _ in inserts)
    doc = list(keep)
    for offset, (pos, ins) in enumerate(zip(positions, inserts)):
        doc.insert(pos + offset, ins)
    return " ".join(doc) + question, positions


def passkey(rng, tok, filler, n_tokens):
    key = rng.randint(10000, 99999)
    ins = "The pass key is %d. Remember it. %d is the pass key." % (key, key)
    prompt, pos = _assemble(rng, tok, filler, n_tokens, [ins], PASSKEY_QUESTION)
    return prompt, " %d." % key, {"task": "passkey", "key": key}


def multikey(rng, tok, filler, n_tokens, n_keys=4):
    names = set()
    while len(names) < n_keys:
        names.add("%s-%s" % (rng.choice(WORDS), rng.choice(WORDS)))
    names = sorted(names)
    rng.shuffle(names)
    values = [rng.randint(10000, 99999) for _ in names]
    inserts = ["The value for key %s is %d." % (k, v) for k, v in zip(names, values)]
    ask = rng.randrange(n_keys)
    question = "\nWhat is the value for key %s? The value for key %s is" % (names[ask], names[ask])
    prompt, _ = _assemble(rng, tok, filler, n_tokens, inserts, question)
    return prompt, " %d." % values[ask], {"task": "multikey", "key": names[ask], "value": values[ask]}


def facts(rng, tok, filler, n_tokens, n_facts=5):
    chosen = []
    while len(chosen) < n_facts:
        f = "The %s %s is in %s." % (rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(PLACES))
        if f not in chosen:
            chosen.append(f)
    inserts = ["FACT: " + f for f in chosen]
    prompt, _ = _assemble(rng, tok, filler, n_tokens, inserts, FACTS_QUESTION)
    answer = "".join("\n%d. %s" % (i + 1, f) for i, f in enumerate(chosen)) + "\nEND"
    return prompt, answer, {"task": "facts", "facts": chosen}


TASKS = {"passkey": passkey, "multikey": multikey, "facts": facts}


def example(task, seed, index, tok, filler, n_tokens):
    """The index-th example of a task for a seed (deterministic)."""
    rng = random.Random("%s/%d/%d/%d" % (task, seed, index, n_tokens))
    return TASKS[task](rng, tok, filler, n_tokens)


def fact_recall(output, facts_list):
    """Fraction of the facts that appear verbatim in the output."""
    return sum(1 for f in facts_list if f in output) / len(facts_list)
