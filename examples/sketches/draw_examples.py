"""Draw the example sketches of the Sketch tab the way a person does on its canvas: closed outlines
and a few inner lines with a 12-pixel round brush on a 280 x 280 white canvas. Each file is named
after the class it shows (``python -m gan_demo evaluate pix2pix-fashion-sketch`` reads the names).

    python examples/sketches/draw_examples.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

BRUSH = 12
SKETCHES = {
    "t-shirt-top": [
        [(110, 40), (60, 60), (25, 110), (60, 135), (78, 118), (78, 250), (202, 250), (202, 118),
         (220, 135), (255, 110), (220, 60), (170, 40), (140, 62), (110, 40)]],
    "trouser": [
        [(88, 25), (192, 25), (212, 255), (160, 255), (140, 95), (120, 255), (68, 255), (88, 25)]],
    "pullover": [
        [(110, 35), (62, 50), (32, 95), (18, 250), (55, 250), (72, 125), (72, 250), (208, 250), (208, 125),
         (225, 250), (262, 250), (248, 95), (218, 50), (170, 35), (140, 58), (110, 35)]],
    "dress": [
        [(115, 25), (165, 25), (172, 95), (218, 255), (62, 255), (108, 95), (115, 25)]],
    "sneaker": [
        [(22, 185), (22, 230), (258, 230), (255, 195), (200, 172), (145, 135), (105, 125), (70, 130),
         (48, 165), (22, 185)],
        [(22, 205), (256, 212)]],
    "bag": [
        [(40, 105), (240, 105), (240, 250), (40, 250), (40, 105)],
        [(90, 105), (100, 45), (180, 45), (190, 105)]],
    "ankle-boot": [
        [(62, 30), (150, 30), (152, 145), (248, 195), (255, 250), (40, 250), (50, 150), (62, 30)]],
    "sandal": [
        [(20, 222), (260, 222), (260, 242), (20, 242), (20, 222)],
        [(60, 222), (100, 172), (140, 222)], [(150, 222), (200, 165), (240, 222)]],
}


def main(folder: Path = Path(__file__).resolve().parent) -> None:
    for name, strokes in SKETCHES.items():
        img = Image.new("RGB", (280, 280), "white")
        pen = ImageDraw.Draw(img)
        for line in strokes:
            pen.line(line, fill="black", width=BRUSH, joint="curve")
            for x, y in line:  # round brush ends, as the canvas draws them
                pen.ellipse((x - BRUSH // 2, y - BRUSH // 2, x + BRUSH // 2, y + BRUSH // 2), fill="black")
        img.save(folder / f"{name}.png", optimize=True)


if __name__ == "__main__":
    main()
