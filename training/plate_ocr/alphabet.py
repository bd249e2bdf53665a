"""The recogniser's output classes, shared with the Rust decoder through ONNX metadata.

Class 0 is the CTC blank. One class stands for the whole word `المغرب` on Moroccan government
plates, because the recogniser reads that word as one symbol.
"""

MOROCCO_WORD = "المغرب"
ARABIC_LETTERS = ["أ", "ب", "د", "ه", "و", "ط", "ج", "ش"]
CLASSES = ["<blank>"] + list("0123456789") + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + ARABIC_LETTERS + [MOROCCO_WORD]
INDEX = {c: i for i, c in enumerate(CLASSES)}

# Model input: one grey channel, height x width; two-row plates are split and laid side by side.
# 32 x 160 (v10, shipped); `RAQIB_OCR_INPUT=48x240` makes every generator and the trainer work at
# another size (the v12 experiment: taller rows). The Rust reader takes the size from the model's
# metadata, so no code change follows a new size.
def _input_size():
    import os
    spec = os.environ.get("RAQIB_OCR_INPUT", "32x160")
    try:
        h, w = (int(v) for v in spec.lower().split("x"))
    except ValueError:
        raise SystemExit(f"RAQIB_OCR_INPUT={spec!r}: expected HEIGHTxWIDTH, e.g. 48x240")
    if h % 8 or w % 8 or h < 16 or w < 64:
        raise SystemExit(f"RAQIB_OCR_INPUT={spec!r}: height and width must be multiples of 8, at least 16x64")
    return h, w


HEIGHT, WIDTH = _input_size()


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


def greedy(log_probs):
    """Best-path CTC decoding of one `[T, C]` row of log-probabilities (numpy or torch): the class
    indices, repeats collapsed and blanks (class 0) dropped."""
    out, prev = [], 0
    for b in log_probs.argmax(-1).tolist():
        if b != prev and b != 0:
            out.append(b)
        prev = b
    return out


def greedy_text(log_probs):
    """`greedy`, as text."""
    return "".join(CLASSES[c] for c in greedy(log_probs))
