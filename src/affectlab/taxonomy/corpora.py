"""The emotion labels of conversation corpora that are not Ekman's six: EmpatheticDialogues' 32 situation
emotions, EmoryNLP's seven feelings and ESConv's eleven seeker emotions, each read from GoEmotions labels.

No published mapping from GoEmotions exists for these sets; the placements are affectlab's, by one rule per
set (``rule``) and a note where a placement needed judgement. A label GoEmotions cannot express is
``unreachable``: it gets no score when converting to the set, and a ``fold`` where it implies a GoEmotions
label when converting from it.
"""

from __future__ import annotations

from affectlab.taxonomy.labels import ED_EMOTIONS, EMORYNLP, ESCONV_EMOTIONS
from affectlab.taxonomy.mapping import LabelMapping

_POSITIVE = ("admiration", "amusement", "approval", "caring", "desire", "excitement", "gratitude", "joy", "love",
             "optimism", "pride", "relief")

EMPATHETIC_DIALOGUES_MAPPING = LabelMapping(
    "empathetic_dialogues", ED_EMOTIONS,
    {
        "afraid": ("fear",), "angry": ("anger",), "annoyed": ("annoyance",), "anticipating": ("desire",),
        "anxious": ("nervousness",), "apprehensive": ("nervousness",), "ashamed": ("embarrassment",),
        "caring": ("caring",), "confident": ("optimism",), "content": ("joy", "relief"), "devastated": ("grief",),
        "disappointed": ("disappointment",), "disgusted": ("disgust",), "embarrassed": ("embarrassment",),
        "excited": ("excitement",), "furious": ("anger",), "grateful": ("gratitude",), "guilty": ("remorse",),
        "hopeful": ("optimism",), "impressed": ("admiration",), "joyful": ("joy", "amusement"),
        "proud": ("pride",), "sad": ("sadness",), "surprised": ("surprise", "realization"), "terrified": ("fear",),
    },
    ("rashkin2019", "demszky2020"),
    "each emotion is read from the GoEmotions labels of the same or nearest meaning (an adjective from its noun: "
    "afraid from fear, grateful from gratitude); GoEmotions labels with no such emotion are unplaced",
    unplaced={
        "approval": "no situation emotion is a favourable opinion",
        "disapproval": "no situation emotion is an unfavourable opinion",
        "confusion": "no situation emotion is not understanding",
        "curiosity": "no situation emotion is wanting to know",
        "love": "no situation emotion is love itself (caring and sentimental are narrower)",
        "neutral": "EmpatheticDialogues has no neutral emotion",
    },
    unreachable={
        "faithful": "GoEmotions has no label for loyalty or faith",
        "jealous": "GoEmotions has no label for jealousy",
        "lonely": "GoEmotions has no label for loneliness",
        "nostalgic": "GoEmotions has no label for nostalgia",
        "prepared": "GoEmotions has no label for readiness",
        "sentimental": "GoEmotions has no label for tender remembering",
        "trusting": "GoEmotions has no label for trust",
    },
    folds={"lonely": ("sadness",), "trusting": ("approval",)},
    notes={
        "desire": "looking forward to something: anticipating",
        "optimism": "GoEmotions defines it as hopefulness and confidence: hopeful and confident",
        "joy": "joyful, and content",
        "relief": "the calm after distress: content",
        "nervousness": "GoEmotions defines it as apprehension and worry: anxious and apprehensive",
        "realization": "becoming aware of something: surprised",
        "anger": "angry and furious: GoEmotions has one anger, of either strength",
        "fear": "afraid and terrified: GoEmotions has one fear, of either strength",
        "embarrassment": "GoEmotions defines it as self-consciousness, shame or awkwardness: embarrassed and ashamed",
    },
)

EMORYNLP_MAPPING = LabelMapping(
    "emorynlp", EMORYNLP,
    {
        "neutral": ("neutral",),
        "joyful": ("joy", "amusement", "excitement", "optimism", "desire"),
        "peaceful": ("relief", "caring", "love", "gratitude", "approval"),
        "powerful": ("pride", "admiration"),
        "scared": ("fear", "nervousness", "confusion"),
        "mad": ("anger", "annoyance", "disgust", "disapproval"),
        "sad": ("sadness", "grief", "disappointment", "remorse", "embarrassment"),
    },
    ("zahiri2018", "willcox1982", "demszky2020"),
    "negative labels go to the feeling of the same kind (mad, scared, sad); positive labels to joyful when "
    "aroused, to peaceful when calm or warm, to powerful when about worth and regard; labels without a "
    "valence of their own are unplaced",
    unplaced={
        "surprise": "none of the seven feelings is surprise, which may be pleasant or not",
        "curiosity": "none of the seven feelings is wanting to know",
        "realization": "none of the seven feelings is becoming aware",
    },
    notes={
        "confusion": "not understanding unsettles: scared",
        "disgust": "the Feeling Wheel has no disgust; revulsion at someone is hostile: mad",
        "embarrassment": "self-conscious shame: sad",
        "admiration": "regard for someone's worth: powerful",
        "desire": "wanting, aroused: joyful",
    },
)

ESCONV_MAPPING = LabelMapping(
    "esconv", ESCONV_EMOTIONS,
    {
        "anxiety": ("nervousness",), "anger": ("anger", "annoyance"), "disgust": ("disgust",), "fear": ("fear",),
        "guilt": ("remorse",), "nervousness": ("nervousness",), "sadness": ("sadness", "grief", "disappointment"),
        "shame": ("embarrassment",),
    },
    ("liu2021", "demszky2020"),
    "each seeker emotion is read from the negative GoEmotions labels of the same or nearest meaning; the "
    "seekers' emotions are all negative, so positive, ambiguous and neutral labels are unplaced",
    unplaced={
        **dict.fromkeys(_POSITIVE, "ESConv's seeker emotions are all negative"),
        **dict.fromkeys(("confusion", "curiosity", "realization", "surprise"),
                        "ESConv's seeker emotions have no ambiguous emotion"),
        "disapproval": "an unfavourable opinion is not one of the seeker emotions",
        "neutral": "ESConv has no neutral emotion",
    },
    unreachable={
        "depression": "GoEmotions has no label for depression (sadness is not depression)",
        "jealousy": "GoEmotions has no label for jealousy",
        "pain": "GoEmotions has no label for pain",
    },
    folds={"depression": ("sadness",), "pain": ("sadness",)},
    notes={
        "nervousness": "GoEmotions defines it as apprehension, worry, anxiety: anxiety and nervousness",
        "remorse": "GoEmotions defines it as regret or guilt: guilt",
        "embarrassment": "GoEmotions defines it as self-consciousness, shame or awkwardness: shame",
        "annoyance": "mild anger: anger",
        "grief": "intense sadness: sadness",
        "disappointment": "sadness at unmet hopes: sadness",
    },
)
