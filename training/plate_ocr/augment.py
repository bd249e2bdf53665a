"""Crop a plate from a scene with a random margin, then degrade it the way cameras do:
low resolution, blur, motion, noise, JPEG, lighting, glare, night/IR, dirt, partial occlusion."""
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageEnhance

import preprocess


def crop(rng, scene, box, jitter=1.0):
    x0, y0, x1, y1 = box
    h = max(2.0, y1 - y0)
    if rng.random() < 0.1 * jitter:
        m = [rng.uniform(-0.03, 0.05) * h for _ in range(4)]
    else:
        m = [rng.uniform(0.02, 0.5) * h * jitter, rng.uniform(0.02, 0.4) * h * jitter,
             rng.uniform(0.02, 0.5) * h * jitter, rng.uniform(0.02, 0.4) * h * jitter]
    W, H = scene.size
    c = (max(0, int(x0 - m[0])), max(0, int(y0 - m[1])), min(W, int(math.ceil(x1 + m[2]))), min(H, int(math.ceil(y1 + m[3]))))
    if c[2] - c[0] < 4 or c[3] - c[1] < 4:
        c = (0, 0, W, H)
    return scene.crop(c)


def degrade(rng, im):
    w, h = im.size
    # Resolution: the crop's text height ends between 10 and 90 pixels.
    target_h = rng.choice([rng.uniform(10, 30), rng.uniform(20, 60), rng.uniform(40, 90)])
    s = min(1.0, target_h / h)
    if s < 1.0:
        im = im.resize((max(8, int(w * s)), max(4, int(h * s))), Image.BILINEAR if rng.random() < 0.5 else Image.BOX)
    if rng.random() < 0.3:
        im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.4)))
    if rng.random() < 0.15:  # horizontal motion blur
        k = rng.randint(2, 5)
        a = np.asarray(im, dtype=np.float32)
        a = sum(np.roll(a, i, axis=1) for i in range(k)) / k
        im = Image.fromarray(a.clip(0, 255).astype(np.uint8))
    if rng.random() < 0.6:
        im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.45, 1.4))
        im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.4, 1.4))
    if rng.random() < 0.12:  # glare
        ov = Image.new("L", im.size, 0)
        cx, cy, r = rng.uniform(0, im.size[0]), rng.uniform(0, im.size[1]), rng.uniform(0.2, 0.7) * im.size[0]
        ImageDraw.Draw(ov).ellipse([cx - r, cy - r / 3, cx + r, cy + r / 3], fill=rng.randint(60, 180))
        ov = ov.filter(ImageFilter.GaussianBlur(max(1, r / 4)))
        im = Image.composite(Image.new("RGB", im.size, (255, 255, 255)), im, ov)
    if rng.random() < 0.1:  # dirt
        d = ImageDraw.Draw(im)
        for _ in range(rng.randint(1, 6)):
            cx, cy, r = rng.uniform(0, im.size[0]), rng.uniform(0, im.size[1]), rng.uniform(0.5, 3)
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(rng.randint(40, 110),) * 3)
    if rng.random() < 0.05:  # occlusion of a top or bottom strip
        d = ImageDraw.Draw(im)
        sh = im.size[1] * rng.uniform(0.1, 0.22)
        y = 0 if rng.random() < 0.5 else im.size[1] - sh
        d.rectangle([0, y, im.size[0], y + sh], fill=tuple(rng.randint(0, 255) for _ in range(3)))
    g = preprocess.grey(im)
    if rng.random() < 0.08:  # night / IR: crushed, high contrast, sometimes inverted blacks
        g = np.clip((g - 60) * rng.uniform(1.5, 3.0), 0, 255)
    if rng.random() < 0.5:
        g = g + np.asarray([rng.gauss(0, 1) for _ in range(1)]) * 0 + np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(1, 12), g.shape)
    g = np.clip(g, 0, 255)
    if rng.random() < 0.6:
        buf = io.BytesIO()
        Image.fromarray(g.astype(np.uint8)).save(buf, "JPEG", quality=rng.randint(15, 90))
        g = np.asarray(Image.open(buf), dtype=np.float32)
    return g


def make(rng, scene, box, two_rows, jitter=1.0):
    """Scene + character box -> HEIGHT x WIDTH uint8 model view."""
    g = degrade(rng, crop(rng, scene, box, jitter))
    return np.clip(preprocess.layout(g, two_rows) + 0.5, 0, 255).astype(np.uint8)
