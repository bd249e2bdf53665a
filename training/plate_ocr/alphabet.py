"""The recogniser's output classes, shared with the Rust decoder through ONNX metadata.

Class 0 is the CTC blank. One class stands for the whole word `المغرب` on Moroccan government
plates, because the recogniser reads that word as one symbol.
"""

MOROCCO_WORD = "المغرب"
ARABIC_LETTERS = ["أ", "ب", "د", "ه", "و", "ط", "ج", "ش"]
CLASSES = ["<blank>"] + list("0123456789") + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + ARABIC_LETTERS + [MOROCCO_WORD]
INDEX = {c: i for i, c in enumerate(CLASSES)}

# Model input: one grey channel, height x width; two-row plates are split and laid side by side.
HEIGHT = 32
WIDTH = 160


def encode(tokens):
    """Class indices of a token list (each token is one class name)."""
    return [INDEX[t] for t in tokens]


def tokens_of(text):
    """Splits label text into class tokens; `المغرب` is one token, separators are dropped."""
    out = []
    i = 0
    while i < len(text):
        if text.startswith(MOROCCO_WORD, i):
            out.append(MOROCCO_WORD)
            i += len(MOROCCO_WORD)
            continue
        c = text[i].upper() if text[i].isascii() else text[i]
        c = {"ا": "أ", "إ": "أ", "آ": "أ", "ة": "ه", "ھ": "ه"}.get(c, c)
        if c in INDEX and c != "<blank>":
            out.append(c)
        i += 1
    return out
