"""The published works behind the label sets and mappings, by the key each mapping cites them with."""

from __future__ import annotations

SOURCES: dict[str, str] = {
    "demszky2020": "Demszky, D., Movshovitz-Attias, D., Ko, J., Cowen, A., Nemade, G., Ravi, S. (2020). GoEmotions: "
                   "A dataset of fine-grained emotions. ACL 2020. Label set and the release's ekman_mapping.json and "
                   "sentiment_mapping.json.",
    "ekman1992": "Ekman, P. (1992). An argument for basic emotions. Cognition and Emotion, 6(3-4), 169-200.",
    "plutchik1980": "Plutchik, R. (1980). Emotion: A psychoevolutionary synthesis. Harper & Row. The eight primary "
                    "emotions, their three intensities and the dyads.",
    "plutchik2001": "Plutchik, R. (2001). The nature of emotions. American Scientist, 89(4), 344-350. The wheel: "
                    "intensity words per petal and the primary dyads.",
    "parrott2001": "Parrott, W. G. (Ed.) (2001). Emotions in social psychology: Essential readings. Psychology "
                   "Press. The primary, secondary and tertiary tiers.",
    "li2017": "Li, Y., Su, H., Shen, X., Li, W., Cao, Z., Niu, S. (2017). DailyDialog: A manually labelled multi-turn "
              "dialogue dataset. IJCNLP 2017. Ekman's six and no emotion.",
    "poria2019": "Poria, S., Hazarika, D., Majumder, N., Naik, G., Cambria, E., Mihalcea, R. (2019). MELD: A "
                 "multimodal multi-party dataset for emotion recognition in conversations. ACL 2019.",
    "zahiri2018": "Zahiri, S. M., Choi, J. D. (2018). Emotion detection on TV show transcripts with sequence-based "
                  "convolutional neural networks. AAAI Workshops 2018. The seven EmoryNLP emotions.",
    "willcox1982": "Willcox, G. (1982). The Feeling Wheel. Transactional Analysis Journal, 12(4), 274-276.",
    "rashkin2019": "Rashkin, H., Smith, E. M., Li, M., Boureau, Y.-L. (2019). Towards empathetic open-domain "
                   "conversation models: A new benchmark and dataset. ACL 2019. The 32 emotions.",
    "liu2021": "Liu, S., Zheng, C., Demasi, O., Sabour, S., Li, Y., Yu, Z., Jiang, Y., Huang, M. (2021). Towards "
               "emotional support dialog systems. ACL 2021. ESConv's seeker emotion types.",
}
