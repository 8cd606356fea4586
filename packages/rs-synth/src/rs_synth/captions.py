"""Human-like captions of a scene, in the style of RSICD (lower case, `` .`` at the end).

Five varied sentences per image from the scene's ground, water body, object classes, counts and positions.
The class words (``airplane``, ``storage tanks``, ``tennis court``, ``dense residential area``, ``meadow``,
``farmland``, ...) are the same words the ImageFolder writer's class folders normalise to, so a CLIP trained
on these captions can zero-shot classify those trees. Numbers and plurals are worded by
:mod:`rs_formats.wording`, as in every other caption rs-clip writes.
"""

from __future__ import annotations

import numpy as np

from rs_formats.wording import be, noun_for, number_word

from .scenes import Scene

#: Larger counts read "many", as a person captioning the image would write.
MAX_COUNTED = 10

# Caption nouns per class; the first is used most often.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "plane": ("airplane", "plane", "aircraft"),
    "small vehicle": ("car", "vehicle", "small vehicle"),
    "large vehicle": ("truck", "large vehicle"),
    "soccer field": ("soccer field", "football field"),
    "golf field": ("golf course", "golf field"),
    "storage tank": ("storage tank", "oil tank"),
    "harbor": ("harbor", "port"),
}

GROUND_PHRASES: dict[str, tuple[str, ...]] = {
    "grass": ("meadow", "green meadow", "piece of green grass"),
    "desert": ("desert", "yellow desert", "sandy desert"),
    "water": ("sea", "blue sea", "ocean"),
    "urban": ("dense residential area", "residential area with many buildings", "dense residential area"),
    "farmland": ("farmland", "farmland with fields", "piece of farmland"),
    "forest": ("forest", "dense forest", "forest of green trees"),
    "concrete": ("concrete ground", "grey concrete apron", "paved area"),
}
WATER_PHRASES: dict[str, tuple[str, ...]] = {
    "sea": ("the sea", "the blue sea"),
    "river": ("a river", "a winding river"),
    "lake": ("a lake", "a blue lake"),
}
THEME_PLACES: dict[str, str] = {
    "airport": "an airport",
    "port": "a port",
    "industrial": "an industrial area",
    "sports": "a sports park",
    "residential": "a residential area",
    "river": "the countryside",
    "countryside": "the countryside",
    "sea": "the sea",
}


def count_word(n: int) -> str:
    """How a caption says ``n`` objects: its number word up to :data:`MAX_COUNTED`, "many" above."""
    return number_word(n) if n <= MAX_COUNTED else "many"


def _noun(rng: np.random.Generator, cls: str) -> str:
    syn = SYNONYMS.get(cls, (cls,))
    return syn[0] if rng.random() < 0.65 else syn[int(rng.integers(len(syn)))]


def _phrase(rng: np.random.Generator, cls: str, n: int, vague: bool = False) -> str:
    noun = noun_for(_noun(rng, cls), n)
    if vague and n > 1:
        return f"{'many' if n >= 6 else 'some'} {noun}"
    return (
        f"{count_word(n)} {noun}"
        if n > 1 or rng.random() < 0.5
        else f"a {noun}"
        if noun[0] not in "aeiou"
        else f"an {noun}"
    )


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _where(scene: Scene, cls: str) -> str:
    xs = [o.center[0] / scene.width for o in scene.objects if o.cls == cls]
    ys = [o.center[1] / scene.height for o in scene.objects if o.cls == cls]
    mx, my = float(np.mean(xs)), float(np.mean(ys))
    if abs(mx - 0.5) < 0.17 and abs(my - 0.5) < 0.17:
        return "in the middle of the image"
    if abs(mx - 0.5) > abs(my - 0.5):
        return "on the left side" if mx < 0.5 else "on the right side"
    return "at the top of the image" if my < 0.5 else "at the bottom of the image"


def _ground(rng: np.random.Generator, scene: Scene) -> str:
    g = GROUND_PHRASES.get(scene.ground, (scene.ground,))
    return g[int(rng.integers(len(g)))]


def scene_captions(rng: np.random.Generator, scene: Scene, n: int = 5) -> list[str]:
    """``n`` different captions of ``scene``."""
    counts = scene.counts()
    classes = sorted(counts, key=lambda c: (-counts[c], c))
    water = scene.water and WATER_PHRASES[scene.water][int(rng.integers(2))]
    out: list[str] = []
    gen = [_c_list, _c_ground, _c_where, _c_main, _c_place] if classes else [_e_1, _e_2, _e_3, _e_4, _e_5]
    order = rng.permutation(len(gen))
    tries = 0
    while len(out) < n and tries < 50:
        fn = gen[order[len(out) % len(gen)] if tries < len(gen) else int(rng.integers(len(gen)))]
        tries += 1
        s = fn(rng, scene, counts, classes, water)
        s = " ".join(s.split()) + " ."
        if s not in out:
            out.append(s)
    while len(out) < n:  # tiny scenes can exhaust the variations: repeat, as real RSICD does
        out.append(out[len(out) % max(1, len(out))])
    return out


def _items(rng, counts, classes, vague=False):
    return [_phrase(rng, c, counts[c], vague) for c in classes]


def _c_list(rng, scene, counts, classes, water):
    return f"there {be(sum(counts.values()))} {_join(_items(rng, counts, classes))} in this image"


def _c_ground(rng, scene, counts, classes, water):
    tail = f" next to {water}" if water and rng.random() < 0.7 else ""
    return f"{_join(_items(rng, counts, classes, vague=rng.random() < 0.3))} on a {_ground(rng, scene)}{tail}"


def _c_where(rng, scene, counts, classes, water):
    c = classes[0]
    n = counts[c]
    return f"{_phrase(rng, c, n)} {be(n)} {_where(scene, c)}"


def _c_main(rng, scene, counts, classes, water):
    c = classes[0]
    rest = classes[1:]
    s = f"a {_ground(rng, scene)} with {_phrase(rng, c, counts[c])}"
    if rest:
        s += f" and {_join(_items(rng, counts, rest, vague=True))} around"
    return s


def _c_place(rng, scene, counts, classes, water):
    place = THEME_PLACES.get(scene.theme, "an area")
    return f"{place} with {_join(_items(rng, counts, classes))}"


def _e_1(rng, scene, counts, classes, water):
    return f"a large piece of {_ground(rng, scene)}" + (f" beside {water}" if water else "")


def _e_2(rng, scene, counts, classes, water):
    return f"this is a {_ground(rng, scene)}"


def _e_3(rng, scene, counts, classes, water):
    return f"the image shows a {_ground(rng, scene)}" + (f" and {water}" if water else "")


def _e_4(rng, scene, counts, classes, water):
    return f"there is nothing but a {_ground(rng, scene)} here"


def _e_5(rng, scene, counts, classes, water):
    return f"an aerial view of a {_ground(rng, scene)}"
