"""Write the SYNTHETIC sample survey that the demo and the tests analyse.

Every answer is invented by the Verbatim team: the phrase banks below are written by hand and combined at
random (``random.Random`` with a fixed seed), so no real person is behind any row. Running the script twice
writes byte-identical files.

Outputs (in ``data/`` next to this ``scripts/`` folder, or ``--out-dir``):

* ``sample_survey.csv``: 420 respondents, UTF-8 without BOM, ``;``-separated, LF line endings.
* ``sample_survey_cp1252.csv``: 60 other respondents, Windows-1252, ``,``-separated, CRLF line endings, the
  way an old Excel export looks.

Usage: ``python scripts/make_sample_survey.py [--out-dir DIR]`` (Python standard library only).
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SEED_UTF8 = 20240611
SEED_CP1252 = 1252
N_UTF8 = 420
N_CP1252 = 60

COLUMNS = ("id", "profession", "structure", "region", "anciennete", "difficultes", "idees")

NBSP = "\u00a0"  # no-break space: before ":" and inside « », in French typography
NNBSP = "\u202f"  # narrow no-break space: before ! ? ; in French typography (not in cp1252)

# ------------------------------------------------------------------------------------------------------------
# Respondent attributes
# ------------------------------------------------------------------------------------------------------------

# profession -> (weight, kind of work); the kind picks the publics, the structures and some sentences.
PROFESSIONS: dict[str, tuple[int, str]] = {
    "assistant·e de service social": (22, "social"),
    "éducateur·rice spécialisé·e": (17, "educ"),
    "conseiller·e en insertion": (11, "emploi"),
    "CESF": (9, "social"),
    "conseiller·e emploi": (9, "emploi"),
    "aide à domicile": (9, "dom"),
    "moniteur·rice éducateur·rice": (7, "educ"),
    "AES": (6, "dom"),
    "TISF": (5, "dom"),
    "encadrant·e": (5, "enc"),
}

STRUCTURES_BY_PROFESSION: dict[str, dict[str, int]] = {
    "assistant·e de service social": {
        "conseil départemental": 45,
        "CCAS": 18,
        "association": 15,
        "centre hospitalier": 10,
        "établissement médico-social": 7,
        "mission locale": 5,
    },
    "CESF": {"CCAS": 30, "association": 32, "conseil départemental": 25, "établissement médico-social": 13},
    "éducateur·rice spécialisé·e": {
        "association": 45,
        "établissement médico-social": 33,
        "conseil départemental": 15,
        "mission locale": 7,
    },
    "moniteur·rice éducateur·rice": {"établissement médico-social": 55, "association": 45},
    "TISF": {"association": 50, "service d'aide à domicile": 35, "conseil départemental": 15},
    "conseiller·e en insertion": {
        "association": 40,
        "mission locale": 28,
        "CCAS": 15,
        "conseil départemental": 17,
    },
    "conseiller·e emploi": {"France Travail": 75, "mission locale": 25},
    "AES": {"établissement médico-social": 60, "service d'aide à domicile": 30, "association": 10},
    "aide à domicile": {"service d'aide à domicile": 80, "CCAS": 14, "association": 6},
    "encadrant·e": {
        "association": 30,
        "conseil départemental": 20,
        "CCAS": 15,
        "établissement médico-social": 15,
        "service d'aide à domicile": 10,
        "mission locale": 5,
        "France Travail": 5,
    },
}

REGIONS: dict[str, int] = {
    "Île-de-France": 16,
    "Auvergne-Rhône-Alpes": 12,
    "Hauts-de-France": 10,
    "Nouvelle-Aquitaine": 9,
    "Occitanie": 9,
    "Grand Est": 9,
    "Provence-Alpes-Côte d'Azur": 8,
    "Bretagne": 6,
    "Pays de la Loire": 6,
    "Normandie": 5,
    "Bourgogne-Franche-Comté": 4,
    "Centre-Val de Loire": 4,
    "La Réunion": 1,
    "Corse": 1,
}

ANCIENNETE: dict[str, int] = {"moins de 2 ans": 12, "2 à 5 ans": 23, "6 à 15 ans": 35, "plus de 15 ans": 30}

# ------------------------------------------------------------------------------------------------------------
# Slots filled in the phrase banks: {public}/{Public} depend on the kind of work
# ------------------------------------------------------------------------------------------------------------

PUBLICS: dict[str, list[str]] = {
    "social": [
        "les usagers",
        "les personnes accompagnées",
        "les familles",
        "les allocataires",
        "les ménages que nous suivons",
        "les personnes âgées",
        "les bénéficiaires du RSA",
    ],
    "emploi": [
        "les demandeurs d'emploi",
        "les jeunes",
        "les personnes accompagnées",
        "les allocataires du RSA",
        "les bénéficiaires",
    ],
    "educ": ["les jeunes", "les familles", "les personnes accompagnées", "les parents"],
    "dom": ["les personnes âgées", "les bénéficiaires", "les personnes aidées", "les familles"],
    "etab": ["les résidents", "les personnes accompagnées", "les familles"],
    "enc": ["les usagers", "les personnes accompagnées", "nos publics", "les bénéficiaires"],
}

SLOTS: dict[str, list[str]] = {
    "org": [
        "la CAF",
        "l'ANTS",
        "France Travail",
        "la préfecture",
        "la CPAM",
        "la MDPH",
        "la CARSAT",
        "la MSA",
    ],
    "a_org": ["à la CAF", "à la CPAM", "à la préfecture", "à France Travail", "à la CARSAT", "aux impôts"],
    "sur_site": [
        "sur le site de la CAF",
        "sur le site de l'ANTS",
        "sur l'ANEF",
        "sur impots.gouv",
        "sur l'espace France Travail",
        "sur Ameli",
        "sur le site de la préfecture",
        "sur le portail de la MDPH",
    ],
}

# ------------------------------------------------------------------------------------------------------------
# Phrase banks. A sentence may start with "[tag,tag] ": it is then used only by respondents whose kind of work
# (social, emploi, educ, dom, etab, enc) or seniority ("new" = less than 2 years) is among the tags.
# The banks use plain ' apostrophes, ASCII "quotes" and a space before ! ? : ; and the typography step turns
# them into French typography (’ « » no-break spaces), into tight English-like spacing, or leaves them.
# ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    key: str
    weight: float
    short: Sequence[str]  # one or two words
    tele: Sequence[str]  # telegraphic fragments, no final punctuation
    sentences: Sequence[str]  # full sentences with their final punctuation


DIFFICULTES: list[Theme] = [
    Theme(
        "demarches_dematerialisees",
        16,
        short=[
            "Dématérialisation",
            "La dématérialisation",
            "Démarches en ligne",
            "Tout en ligne",
            "Sites administratifs",
            "Dématérialisation des démarches",
            "L'illectronisme",
            "Illectronisme des usagers",
            "Les démarches CAF",
            "ANTS !",
        ],
        tele=[
            "démarches 100% en ligne, usagers perdus",
            "plus de guichet, tout passe par internet",
            "sites CAF / ANTS / préfecture incompréhensibles",
            "dossiers à faire en ligne pour des gens qui n'ont pas d'ordinateur",
            "illectronisme massif chez {public}",
            "rdv préfecture introuvables",
            "renouvellement de titre de séjour = parcours du combattant",
            "accès aux droits de plus en plus compliqué",
            "personnes âgées exclues des démarches",
            "impossible de joindre quelqu'un au téléphone, seulement des formulaires",
            "non-recours aux droits qui explose",
        ],
        sentences=[
            "La dématérialisation des démarches exclut une partie de {public}, qui n'ont ni ordinateur ni "
            "les compétences pour s'en servir.",
            "Tout se fait en ligne maintenant : CAF, impôts, retraite, titre de séjour... et beaucoup de "
            "personnes sont complètement perdues.",
            "Il n'y a plus d'accueil physique {a_org}, donc c'est nous qui devenons le guichet.",
            "Les sites administratifs ne sont pas pensés pour des personnes qui lisent mal le français.",
            "Prendre un rendez-vous en préfecture relève du miracle : les créneaux partent en quelques "
            "minutes et les personnes se retrouvent sans papiers à jour.",
            "{Public} qui ne maîtrisent pas le numérique renoncent à leurs droits, tout simplement.",
            "Le non-recours augmente parce que les démarches sont devenues trop compliquées en ligne.",
            "On nous demande d'orienter vers les sites internet mais une bonne partie de nos usagers n'a "
            "jamais utilisé un ordinateur.",
            "Les démarches {sur_site} changent tout le temps, les menus bougent, les formulaires aussi, on "
            "ne s'y retrouve pas nous-mêmes.",
            "L'illectronisme touche beaucoup plus de monde qu'on ne le croit, y compris des jeunes à l'aise "
            "avec les réseaux sociaux mais pas avec un formulaire administratif.",
            "Quand un dossier bloque en ligne, il n'y a personne à qui parler, juste un formulaire de "
            "contact qui renvoie une réponse automatique.",
            "Pour les personnes âgées, la fin des dossiers papier a été une vraie catastrophe.",
            "Le site de l'ANTS pour les cartes grises et les permis est une horreur, on y passe des heures.",
            "Les personnes non francophones sont complètement exclues des démarches en ligne.",
            "On entend tous les jours \"je ne comprends rien à internet\", et ce n'est pas une excuse, c'est "
            "la réalité.",
            'Des usagers arrivent avec un courrier qui leur demande de "se connecter à leur espace" sans '
            "savoir ce qu'est un espace en ligne.",
            "La dématérialisation a été faite sans penser aux plus fragiles, c'est une forme de maltraitance "
            "institutionnelle.",
            "Certaines démarches ne peuvent PLUS se faire autrement qu'en ligne, même quand la personne se "
            "déplace au guichet.",
            "Pour une simple attestation, il faut créer un compte, valider un mail, télécharger un "
            "justificatif... c'est décourageant.",
            "[dom] Les personnes chez qui j'interviens reçoivent des courriers qui les renvoient vers "
            "internet, et elles me demandent de l'aide alors que ce n'est pas mon rôle.",
            "[emploi] L'inscription et l'actualisation en ligne font sauter des droits à des gens qui n'ont "
            "simplement pas compris la procédure.",
            "[social] Nos permanences sont devenues des permanences d'accès aux droits numériques, on "
            "remplit des formulaires à longueur de journée.",
        ],
    ),
    Theme(
        "manque_formation_professionnels",
        11,
        short=[
            "Formation",
            "Manque de formation",
            "Pas formé·e",
            "Aucune formation",
            "Formations inexistantes",
            "Compétences numériques",
        ],
        tele=[
            "jamais formé·e aux outils qu'on nous impose",
            "formation sur le tas, entre collègues",
            "nouveaux logiciels sans formation",
            "on apprend seuls, sur YouTube",
            "pas de temps pour se former",
            "formations trop courtes et trop théoriques",
            "collègues en difficulté avec l'informatique",
            "manque de compétences pour aider les usagers sur les démarches",
        ],
        sentences=[
            "On nous impose de nouveaux outils sans aucune formation, on apprend sur le tas.",
            "Je ne suis pas formée pour accompagner les gens sur les démarches en ligne, ce n'était pas du "
            "tout dans ma formation initiale.",
            "La formation initiale des travailleurs sociaux n'aborde quasiment pas le numérique.",
            "Nous n'avons eu qu'une demi-journée de présentation pour le nouveau logiciel, ce qui est "
            "largement insuffisant.",
            "Certains collègues plus âgés sont en grande difficulté et n'osent pas le dire.",
            "On se débrouille entre nous : celui qui sait montre aux autres, mais ça prend du temps et ce "
            "n'est jamais reconnu.",
            "Je ne connais pas bien tous les sites administratifs, alors j'ai peur de faire des erreurs sur "
            "le dossier d'une personne.",
            "Les formations proposées sont souvent trop générales et ne correspondent pas à ce qu'on vit sur "
            "le terrain.",
            "Personne ne nous a expliqué comment utiliser correctement Teams ou le partage de documents, "
            "chacun fait à sa manière.",
            "Se former demande du temps qu'on n'a pas, les formations passent toujours après les urgences.",
            "Quand les sites changent, on n'est jamais informés, on découvre devant l'usager.",
            "On nous demande d'être des experts du numérique alors qu'on n'a JAMAIS été formés pour ça.",
            "Je me sens souvent incompétente face à un écran, et c'est assez dévalorisant devant les "
            "personnes accompagnées.",
            "Il manque une vraie culture numérique dans le secteur social, on a beaucoup de retard.",
            "Le plan de formation ne prévoit rien sur le numérique, ou alors une fois tous les trois ans.",
            "On nous demande de mettre en œuvre des outils qu'on ne maîtrise pas.",
            "Même les jeunes collègues, qu'on croit à l'aise, ne savent pas forcément utiliser un tableur ou "
            "classer des fichiers.",
            "[enc] Je vois bien que mes équipes manquent de bases en informatique, mais le budget formation "
            "ne suit pas.",
            "[dom] Dans notre métier on n'a jamais eu de formation sur l'appli de télégestion, on nous a "
            "juste donné le téléphone.",
            "[new] Je sors de l'école et on ne nous a rien appris sur les démarches en ligne, je découvre "
            "tout sur le terrain.",
        ],
    ),
    Theme(
        "materiel_reseau",
        12,
        short=[
            "Matériel",
            "Réseau",
            "La connexion",
            "Ordinateurs lents",
            "Wifi",
            "Zones blanches",
            "Matériel obsolète",
        ],
        tele=[
            "ordis qui rament",
            "pas de réseau chez les gens",
            "wifi qui saute tout le temps",
            "zones blanches en campagne",
            "un seul ordinateur pour trois",
            "pas de téléphone pro",
            "imprimante en panne une semaine sur deux",
            "pas d'ordinateur portable pour les visites à domicile",
            "connexion catastrophique en milieu rural",
        ],
        sentences=[
            "Nos ordinateurs sont vieux et lents, il faut parfois dix minutes pour ouvrir un logiciel.",
            "En visite à domicile, il n'y a souvent pas de réseau, impossible de faire quoi que ce soit en "
            "ligne avec la personne.",
            "Nous partageons un ordinateur à plusieurs, donc il faut attendre son tour pour faire ses écrits.",
            "La connexion internet du service coupe plusieurs fois par jour.",
            "En zone rurale, les zones blanches sont nombreuses et les gens n'ont pas de connexion correcte.",
            "On n'a pas de téléphone professionnel, j'utilise mon portable perso pour appeler les familles.",
            "Le matériel est obsolète : écrans minuscules, pas de webcam, pas de micro pour les visios.",
            "Les mises à jour se lancent en plein entretien et bloquent l'ordinateur pendant une demi-heure.",
            "Le wifi ne passe pas dans les bureaux d'entretien, on doit aller dans le couloir pour envoyer "
            "un document.",
            "Il n'y a pas de scanner, alors on prend les justificatifs en photo avec nos téléphones.",
            "Quand le réseau tombe, tout le service est à l'arrêt puisque tout est en ligne.",
            "On nous demande de travailler en mobilité mais sans ordinateur portable ni clé 4G.",
            "L'équipement n'a pas suivi la dématérialisation : on nous demande tout en numérique avec des "
            "machines d'il y a dix ans.",
            "Le VPN est tellement lent en télétravail que c'est quasiment inutilisable.",
            "[dom] Chez les personnes âgées, pas de box, pas de wifi, et mon téléphone ne capte pas : la "
            "badgeuse ne fonctionne pas une fois sur deux.",
            "[dom] L'appli de pointage plante régulièrement, et quand le téléphone n'a plus de batterie on "
            "est considérées comme absentes.",
            "[educ,etab] Un ordinateur pour toute l'équipe éducative du groupe, et il sert aussi aux jeunes "
            "pour leurs recherches de stage.",
        ],
    ),
    Theme(
        "logiciels_double_saisie",
        12,
        short=[
            "Double saisie",
            "Trop de logiciels",
            "Les logiciels",
            "Multiplication des plateformes",
            "Saisies",
            "Logiciels métiers",
        ],
        tele=[
            "trop de logiciels qui ne communiquent pas",
            "double voire triple saisie",
            "un identifiant par plateforme",
            "logiciel métier pas adapté",
            "saisie statistique interminable",
            "chaque financeur son outil",
            "outils pas pensés pour le terrain",
            "informations à ressaisir partout",
        ],
        sentences=[
            "On saisit les mêmes informations dans trois logiciels différents qui ne communiquent pas entre eux.",
            "Chaque financeur impose sa propre plateforme, avec ses indicateurs et ses identifiants.",
            "Le logiciel métier est lourd, pas intuitif, il faut dix clics pour enregistrer un simple entretien.",
            "Nous passons plus de temps à remplir des tableaux qu'à accompagner les personnes.",
            "La double saisie est permanente : papier pour l'usager, logiciel du département, puis tableau "
            "Excel pour notre structure.",
            "Les outils changent tous les deux ans, à peine on maîtrise un logiciel qu'on passe à un autre.",
            "Les logiciels sont conçus pour le reporting, pas pour le suivi des personnes.",
            "Il faut jongler entre la messagerie, le logiciel de suivi, l'agenda partagé, le drive et les "
            "plateformes partenaires.",
            "La saisie des statistiques nous prend des heures chaque mois pour des chiffres dont on ne voit "
            "jamais l'usage.",
            "Les comptes rendus doivent être tapés dans des cases trop petites, on perd toute la nuance de "
            "la situation.",
            "On perd des informations à force de les recopier d'un outil à l'autre.",
            'Le "zéro papier" a surtout créé du travail en plus : on imprime, on scanne, on ressaisit.',
            "Aucun outil ne fait le lien avec les partenaires, donc on s'envoie des PDF par mail en permanence.",
            "Les champs obligatoires du logiciel ne correspondent pas à la réalité des situations, on coche "
            "des cases au hasard pour pouvoir valider.",
            "[emploi] Entre le logiciel de France Travail, celui du conseil départemental et l'outil "
            "interne, on ressaisit le même parcours trois fois.",
            "[emploi] Sur les dispositifs d'insertion, chaque action a son propre extranet, et rien ne "
            "remonte automatiquement.",
            "[dom] La télégestion nous oblige à tout pointer, chaque tâche, chaque minute, c'est une saisie "
            "de plus pour rien.",
            "[educ,etab] Le dossier de l'usager est à la fois dans le classeur papier, dans le logiciel et "
            "dans nos mails, personne ne sait où est la bonne version.",
        ],
    ),
    Theme(
        "temps_pris_sur_la_relation",
        11,
        short=[
            "Perte du lien",
            "Moins de relationnel",
            "L'humain",
            "Le temps",
            "Moins de temps pour l'accompagnement",
            "Déshumanisation",
        ],
        tele=[
            "moins de temps pour l'accompagnement",
            "l'écran entre moi et la personne",
            "entretiens transformés en démarches en ligne",
            "on fait de l'administratif au lieu de l'éducatif",
            "perte du contact humain",
            "plus de temps devant l'écran qu'avec les gens",
            "relation d'aide qui passe au second plan",
            "déshumanisation du travail social",
        ],
        sentences=[
            "L'écran s'installe entre moi et la personne, l'entretien se transforme en séance de saisie.",
            "Je passe plus de temps sur l'ordinateur qu'avec les personnes que j'accompagne.",
            "Le cœur de notre métier, c'est la relation, et le numérique nous en éloigne chaque jour un peu plus.",
            "Les entretiens sont entièrement occupés par les démarches en ligne, on n'a plus le temps de "
            "parler du reste.",
            "On devient des agents administratifs de substitution au lieu de faire du travail social.",
            "Le temps passé sur les sites, c'est du temps en moins pour écouter, pour comprendre la situation.",
            "La relation de confiance se construit mal quand on a les yeux sur l'écran pendant tout le rendez-vous.",
            "Avec les visios et les mails, on voit moins les gens en vrai, et on passe à côté de beaucoup de choses.",
            "On me demande de répondre par mail à des situations qui mériteraient une vraie rencontre.",
            "Le numérique nous fait gagner du temps sur certaines tâches mais on le perd ailleurs, et c'est "
            "toujours l'accompagnement qui trinque.",
            "On a perdu le sens de notre travail : remplir, cliquer, valider, au lieu d'accompagner.",
            "Les personnes le ressentent : elles me disent que je suis toujours sur mon ordinateur.",
            "Une dame m'a dit un jour : \"vous ne me regardez plus, vous regardez votre écran\". Ça m'a marquée.",
            "Faire les démarches à la place des gens prend tout le temps du rendez-vous, le projet de la "
            "personne passe au second plan.",
            "Le numérique déshumanise la relation, surtout pour les publics les plus isolés.",
            "[educ] Les jeunes sont sur leur téléphone, nous sur l'ordinateur pour les écrits, il reste peu "
            "de temps pour le vrai travail éducatif.",
            "[dom] Avec la télégestion, chaque minute est comptée : plus le temps de prendre un café avec la "
            "personne, alors que c'est souvent le seul moment où elle parle.",
        ],
    ),
    Theme(
        "acces_et_cout_pour_les_usagers",
        8,
        short=[
            "Équipement des usagers",
            "Pas de forfait",
            "Coût d'internet",
            "Fracture numérique",
            "Accès des usagers",
        ],
        tele=[
            "usagers sans ordinateur ni imprimante",
            "juste un smartphone, souvent sans forfait",
            "forfait épuisé en milieu de mois",
            "téléphones partagés dans la famille",
            "pas d'adresse mail ou adresse oubliée",
            "écrans cassés, pas de data",
            "abonnement internet trop cher pour les familles",
        ],
        sentences=[
            "Beaucoup de personnes n'ont qu'un smartphone, souvent avec un écran cassé et sans forfait data.",
            "Un abonnement internet, c'est un budget que beaucoup de familles ne peuvent pas se permettre.",
            "{Public} n'ont pas d'imprimante ni de scanner, donc impossible de joindre les justificatifs demandés.",
            "Remplir un dossier CAF sur un petit écran de téléphone, c'est quasiment mission impossible.",
            "Certaines familles partagent un seul téléphone, avec un seul numéro pour tous les comptes, ce "
            "qui pose plein de problèmes.",
            "Les personnes en précarité ont souvent des cartes prépayées et se retrouvent sans crédit au "
            "moment où il faut recevoir un code.",
            "Les personnes à la rue n'ont pas de quoi recharger leur téléphone, et encore moins accès à un ordinateur.",
            "La fracture numérique, c'est aussi une question d'argent : équipement, forfait, imprimante, encre...",
            "Les points d'accès publics (médiathèque, mairie) ont des horaires très limités, surtout en campagne.",
            "Beaucoup de jeunes ont un téléphone dernier cri mais aucune adresse mail valide.",
            "Des usagers changent de numéro tous les trois mois et perdent l'accès à leurs comptes.",
            "Pour scanner un document, les gens doivent aller à la médiathèque à 15 km, sans voiture.",
            "Le coût du matériel reste un frein énorme pour les ménages que nous suivons.",
            "[dom] Les personnes âgées chez qui on va n'ont souvent ni internet ni ordinateur, seulement le "
            "téléphone fixe.",
        ],
    ),
    Theme(
        "confidentialite_donnees",
        6,
        short=[
            "RGPD",
            "Confidentialité",
            "Secret professionnel",
            "Sécurité des données",
            "Protection des données",
        ],
        tele=[
            "données perso qui circulent par mail",
            "WhatsApp utilisé faute de mieux",
            "secret pro mis à mal",
            "mots de passe des usagers dans nos dossiers",
            "pas de messagerie sécurisée",
            "RGPD flou pour tout le monde",
            "photos de papiers d'identité sur des téléphones perso",
        ],
        sentences=[
            "Les documents des personnes circulent par mail sans aucune sécurité, on ne sait pas toujours où "
            "ils finissent.",
            "Le RGPD reste très flou pour nous, on ne sait pas ce qu'on a le droit de conserver.",
            "Nous n'avons pas de messagerie sécurisée, donc les informations sensibles passent par des mails "
            "classiques.",
            "Le partage d'informations entre partenaires via les plateformes pose de vraies questions de "
            "secret professionnel.",
            "Certains collègues utilisent WhatsApp avec les familles faute d'autre outil, ce n'est pas satisfaisant.",
            "Connaître les identifiants et les mots de passe des personnes nous met dans une position délicate.",
            "Je ne sais pas qui a accès à ce que j'écris dans le logiciel, alors j'écris le minimum.",
            "Les usagers nous envoient des photos de leurs papiers sur nos téléphones, qui ne sont même pas "
            "professionnels.",
            "On nous demande de tout tracer dans le logiciel, mais certaines informations n'ont rien à y faire.",
            "Les écrits professionnels sont accessibles à trop de monde, ça interroge le secret partagé.",
            "Les personnes accompagnées ne savent pas ce que deviennent leurs données, et honnêtement nous non plus.",
            "Faire des synthèses en visio, avec des infos confidentielles, depuis un bureau partagé ou "
            "depuis chez soi, ça me gêne.",
            "[educ] Les jeunes publient beaucoup de choses sur les réseaux sociaux, et on ne sait pas "
            "comment réagir quand ça concerne le service.",
        ],
    ),
    Theme(
        "identifiants_mots_de_passe",
        10,
        short=[
            "Mots de passe",
            "Les identifiants",
            "Identifiants",
            "FranceConnect",
            "Codes d'accès",
            "Double authentification",
        ],
        tele=[
            "mots de passe oubliés en permanence",
            "FranceConnect incompréhensible pour les usagers",
            "codes de validation envoyés sur un numéro qui n'existe plus",
            "adresses mail créées par nous et oubliées par les usagers",
            "on fait les démarches à la place des gens",
            "comptes bloqués après trois essais",
            "identifiants notés sur des bouts de papier",
            "un code par site, impossible à retenir",
        ],
        sentences=[
            "La moitié du rendez-vous passe à retrouver un mot de passe ou à réinitialiser un compte.",
            "Les personnes ont un identifiant différent pour chaque site et ne s'en souviennent évidemment pas.",
            "FranceConnect devait simplifier les choses, mais pour beaucoup d'usagers c'est une difficulté de plus.",
            "Les codes de double authentification arrivent sur un téléphone que la personne n'a plus, et "
            "tout est bloqué.",
            "Nous finissons par faire les démarches à la place des personnes, avec leurs codes, ce qui n'est "
            "pas notre rôle.",
            "Certains usagers nous confient leurs mots de passe pour qu'on gère à leur place, c'est une "
            "responsabilité énorme.",
            "Des adresses mail ont été créées par quelqu'un d'autre pour la personne, qui ne connaît même "
            "pas le mot de passe.",
            "Après trois erreurs de mot de passe, le compte est bloqué et il faut attendre un courrier, "
            "parfois plusieurs semaines.",
            "Créer une adresse mail, puis un compte, puis valider le lien, puis recevoir un code : à chaque "
            "étape on perd quelqu'un.",
            "On garde des identifiants dans les dossiers papier parce que sinon les gens les perdent, mais "
            "je sais que ce n'est pas réglementaire.",
            "L'identité numérique La Poste, les codes impots.gouv, le compte Ameli... chaque organisme a son "
            "système de connexion.",
            "Faire à la place, c'est plus rapide, mais la personne n'apprend rien et reste dépendante de nous.",
            "Les gens reçoivent des SMS avec des codes qu'ils ne comprennent pas et les effacent, ou pire, "
            "les donnent à des arnaqueurs.",
            "Je passe un temps fou à recréer des comptes pour des personnes qui ont tout oublié depuis le "
            "dernier rendez-vous.",
            "Ce sont souvent les enfants ou une sœur qui gèrent les comptes, avec tous les risques que ça comporte.",
        ],
    ),
    Theme(
        "charge_mentale_joignabilite",
        9,
        short=[
            "Charge mentale",
            "Trop de mails",
            "Surcharge",
            "Joignabilité",
            "Hyperconnexion",
            "La pression",
        ],
        tele=[
            "boîte mail qui déborde",
            "sollicitations en continu : mails, Teams, SMS",
            "toujours joignable, même en congés",
            "tout devient urgent",
            "notifications toute la journée",
            "impossible de déconnecter",
            "réunions en visio enchaînées",
        ],
        sentences=[
            "Je reçois des dizaines de mails par jour, tous marqués urgents, et je n'arrive plus à prioriser.",
            "Entre Teams, les mails, les SMS et le téléphone, on est sollicité en permanence.",
            "On attend de nous une réponse immédiate, comme si on était disponibles 24 heures sur 24.",
            "Le soir je consulte encore ma messagerie pro sur mon téléphone, je n'arrive pas à couper.",
            "Les visioconférences s'enchaînent sans pause, on ne se déplace plus mais on est épuisés.",
            "Le numérique a accéléré le rythme de travail sans alléger la charge, au contraire.",
            "Les usagers ont notre mail et écrivent à toute heure, y compris le week-end.",
            "Chaque outil ajoute ses notifications, ses rappels, ses relances : c'est une charge mentale énorme.",
            "Après une semaine de congés, j'ai plus de 300 mails en retour, ce qui gâche le plaisir de revenir.",
            "On nous met en copie de tout, et on a peur de rater l'information importante au milieu du reste.",
            "La frontière entre vie pro et vie perso a complètement sauté depuis qu'on a Teams sur le téléphone.",
            "Les délais se raccourcissent parce que tout va plus vite par mail, mais nos situations, elles, "
            "ne vont pas plus vite.",
            "[enc] En tant que cadre, je suis joignable en permanence, même pendant mes congés, ce qui n'est pas sain.",
        ],
    ),
    Theme(
        "absence_support_technique",
        5,
        short=[
            "Support technique",
            "Pas de service informatique",
            "Aucun appui technique",
            "Dépannage",
            "Hotline",
        ],
        tele=[
            "pas de service informatique en interne",
            "hotline injoignable",
            "tickets qui restent sans réponse",
            "on se dépanne entre collègues",
            "prestataire informatique à distance, jamais dispo",
            "personne pour installer ou réparer",
        ],
        sentences=[
            "Nous n'avons pas de service informatique, quand ça plante on se débrouille.",
            "Le prestataire informatique met des jours à répondre, pendant ce temps on ne peut pas travailler.",
            "Quand une imprimante ou un poste tombe en panne, personne ne sait qui appeler.",
            "C'est toujours le même collègue un peu plus à l'aise qui dépanne tout le monde, en plus de son travail.",
            "Le support du logiciel métier est une hotline payante qu'on n'ose pas appeler.",
            "Les tickets informatiques restent ouverts des semaines, on finit par contourner le problème.",
            "Aucune personne ressource dans la structure pour nous aider sur le numérique.",
            "Le service informatique est au siège, à deux heures de route, et ne connaît pas nos contraintes.",
            "Quand on a un souci en visite ou en télétravail, il n'y a aucune assistance.",
            "On installe nous-mêmes les logiciels avec les moyens du bord, sans savoir si c'est sécurisé.",
            "Le support répond avec un jargon technique auquel on ne comprend rien.",
            "[enc] En petite structure, c'est moi qui fais l'informaticien en plus de l'encadrement, faute de budget.",
        ],
    ),
]

IDEES: list[Theme] = [
    Theme(
        "formation_des_professionnels",
        15,
        short=[
            "Formation",
            "Formations",
            "Se former",
            "Formation continue",
            "Plus de formation",
            "Former les pros",
        ],
        tele=[
            "formations régulières sur les outils",
            "formation aux démarches en ligne (CAF, ANTS...)",
            "intégrer le numérique dans la formation initiale",
            "temps de formation sur le temps de travail",
            "formation PIX pour les pros",
            "sessions de mise à jour quand les sites changent",
            "tutoriels courts et pratiques",
            "formation par les pairs",
        ],
        sentences=[
            "Des formations régulières et concrètes sur les sites que nos usagers utilisent vraiment.",
            "Intégrer l'accompagnement au numérique dans la formation initiale des travailleurs sociaux.",
            "Prévoir du temps de formation sur le temps de travail, pas en plus du reste.",
            "Former les professionnels avant de déployer un nouvel outil, et pas six mois après.",
            "Des petites sessions d'une heure, en interne, sur des cas pratiques rencontrés par l'équipe.",
            "Que chaque nouveau salarié ait une vraie formation aux outils à son arrivée.",
            "Nous aimerions des formations sur la posture : comment accompagner sans faire à la place.",
            "Des tutoriels vidéo courts, à jour, qu'on pourrait aussi montrer aux personnes.",
            "Un plan de formation numérique pour toute l'équipe, avec des niveaux différents selon les besoins.",
            "Organiser des échanges de pratiques entre structures sur les usages du numérique.",
            "Se former à la cybersécurité et au RGPD, pour savoir enfin ce qu'on a le droit de faire.",
            "Former les équipes, encore et encore : c'est la base de tout !",
            "Une formation certifiante type PIX pour les pros qui le souhaitent, prise en charge par l'employeur.",
            "[dom] Être formées à la télégestion et à l'appli avant de partir seules chez les gens.",
            "[enc] Un budget formation dédié au numérique, identifié dans le plan de développement des compétences.",
        ],
    ),
    Theme(
        "mediateurs_conseillers_numeriques",
        12,
        short=[
            "Conseillers numériques",
            "Médiation numérique",
            "France Services",
            "Des médiateurs numériques",
            "Espace numérique",
        ],
        tele=[
            "un conseiller numérique dans chaque structure",
            "plus d'espaces France Services",
            "médiateurs numériques sur les permanences",
            "orienter vers des lieux de médiation fiables",
            "pérenniser les postes de conseillers numériques",
            "un référent numérique par service",
        ],
        sentences=[
            "Un conseiller numérique dans chaque structure, ou au moins dans chaque territoire, pour que ce "
            "ne soit plus aux travailleurs sociaux de tout faire.",
            "Pérenniser les postes de conseillers numériques, qui disparaissent dès que les financements s'arrêtent.",
            "Développer les espaces France Services, surtout dans les zones rurales.",
            "Pouvoir orienter vers des médiateurs numériques fiables, avec des rendez-vous rapides.",
            "Créer des permanences de médiation numérique directement dans nos locaux.",
            "Un référent numérique par service, avec du temps dédié, pour aider les collègues et les usagers.",
            "Mieux articuler notre travail avec les médiateurs : à eux l'outil, à nous l'accompagnement social.",
            "Des médiateurs qui se déplacent à domicile pour les personnes qui ne peuvent pas sortir.",
            "Une cartographie à jour des lieux où les gens peuvent se faire aider sur le numérique.",
            "Que les France Services aient des agents vraiment formés aux dossiers complexes, pas seulement "
            "à l'impression de documents.",
            "Un bus numérique itinérant pour les villages.",
            "Des binômes travailleur social / conseiller numérique sur les situations les plus compliquées.",
            "Mettre en œuvre un vrai réseau de médiation numérique sur chaque territoire.",
        ],
    ),
    Theme(
        "garder_humain_accueil_physique",
        13,
        short=[
            "Garder l'humain",
            "Accueil physique",
            "L'humain !",
            "Du présentiel",
            "Un guichet",
            "Alternative papier",
        ],
        tele=[
            "maintenir un accueil physique dans les administrations",
            "toujours une alternative papier",
            "un vrai numéro de téléphone avec un humain au bout",
            "garder des guichets ouverts",
            "ne pas tout dématérialiser",
            "le droit de ne pas être connecté",
        ],
        sentences=[
            "Maintenir un accueil physique dans toutes les administrations, avec de vraies personnes au guichet.",
            "Garder systématiquement une alternative papier pour ceux qui ne peuvent pas faire en ligne.",
            "Que le numérique reste un outil et ne remplace jamais la relation humaine.",
            "Un numéro de téléphone direct, avec un interlocuteur, pour les travailleurs sociaux dans chaque "
            "organisme.",
            "Revenir à des rendez-vous physiques pour les situations complexes, plutôt que tout traiter par mail.",
            "Reconnaître le droit de ne pas être connecté, et que personne ne perde ses droits pour ça.",
            "Remettre de l'humain dans les CAF et les CPAM, avec des permanences sans rendez-vous.",
            "Il faut arrêter la dématérialisation à marche forcée et laisser le choix aux personnes.",
            "Le \"tout numérique\", d'accord, mais jamais sans une porte d'entrée humaine.",
            "Préserver les temps d'entretien sans écran, où l'on prend le temps d'écouter.",
            "Que les administrations reviennent vers les usagers au lieu de les renvoyer vers un site internet.",
            "Du lien, du lien, du lien : le numérique ne remplacera jamais une présence.",
            "[dom] Qu'on garde du temps de présence chez les personnes, pas seulement des minutes pointées "
            "sur une appli.",
        ],
    ),
    Theme(
        "equipement_connexion",
        12,
        short=[
            "Du matériel",
            "Équipement",
            "Des tablettes",
            "Téléphones pro",
            "Ordinateurs portables",
            "Une meilleure connexion",
        ],
        tele=[
            "ordinateurs portables pour tous",
            "un téléphone pro pour chaque salarié",
            "tablettes 4G pour les visites à domicile",
            "la fibre au bureau",
            "renouveler le parc informatique",
            "scanners et imprimantes qui marchent",
            "un deuxième écran",
        ],
        sentences=[
            "Un ordinateur portable par professionnel, avec une clé 4G pour les visites à domicile.",
            "Un téléphone professionnel pour chacun, pour arrêter d'utiliser nos portables personnels.",
            "Des tablettes avec connexion 4G pour faire les démarches directement chez les personnes.",
            "Renouveler le matériel, qui a plus de dix ans, et prévoir un budget pour son entretien.",
            "Une connexion fibre dans les locaux, et du wifi qui fonctionne dans toutes les salles d'entretien.",
            "Un poste en libre accès dans la salle d'attente, avec une imprimante et un scanner, pour que "
            "les usagers puissent faire leurs démarches.",
            "Des ordinateurs reconditionnés à prêter ou donner aux familles qui n'en ont pas.",
            "Un double écran pour pouvoir montrer à la personne ce qu'on fait pendant la démarche.",
            "Des forfaits solidaires ou des cartes SIM pour les personnes sans connexion.",
            "Couvrir les zones blanches, c'est la base avant de tout dématérialiser.",
            "Un équipement correct pour la visio : casque, webcam, salle dédiée.",
            "[dom] Des smartphones professionnels fiables, avec une bonne batterie, pour la télégestion.",
        ],
    ),
    Theme(
        "logiciel_unique_interoperabilite",
        10,
        short=[
            "Logiciel unique",
            "Interopérabilité",
            "Fin de la double saisie",
            "Un seul outil",
            "Outils simples",
        ],
        tele=[
            "un seul logiciel partagé avec les partenaires",
            "stop à la double saisie",
            "des outils qui communiquent entre eux",
            "un identifiant unique pour toutes les plateformes",
            "des logiciels plus simples et intuitifs",
            "moins de reporting",
        ],
        sentences=[
            "Un logiciel unique, partagé entre les financeurs et les structures, pour arrêter de saisir "
            "trois fois la même chose.",
            "Que les outils communiquent entre eux : une information saisie une fois doit suffire.",
            "Harmoniser les plateformes des différents financeurs, ou au moins leurs indicateurs.",
            "Des logiciels métiers pensés pour le suivi des personnes, pas uniquement pour les statistiques.",
            "Un identifiant unique pour nous, professionnels, sur l'ensemble des sites partenaires.",
            "Simplifier les logiciels : moins de champs obligatoires, plus d'espace pour écrire.",
            "Réduire le reporting demandé et expliquer à quoi servent les chiffres qu'on remonte.",
            "Un dossier numérique de l'usager partagé, avec son accord, pour éviter de lui redemander dix "
            "fois les mêmes papiers.",
            "Arrêter de changer d'outil tous les deux ans.",
            "Une plateforme d'échange sécurisée commune à tous les partenaires du territoire.",
            "Des outils qui fonctionnent aussi hors connexion et se synchronisent ensuite.",
            "[emploi] Que les données de France Travail remontent automatiquement dans notre outil de suivi.",
        ],
    ),
    Theme(
        "simplifier_demarches_falc",
        9,
        short=[
            "Simplifier",
            "FALC",
            "Simplification des démarches",
            "Des sites plus simples",
            "Sites accessibles",
        ],
        tele=[
            "sites administratifs en FALC",
            "des démarches plus simples",
            "formulaires traduits en plusieurs langues",
            "moins de justificatifs à fournir",
            "les mêmes règles pour tous les sites",
            "des sites testés avec de vrais usagers",
        ],
        sentences=[
            "Simplifier vraiment les démarches en ligne, avec moins d'étapes et moins de justificatifs.",
            "Des sites en FALC (facile à lire et à comprendre), accessibles à tous.",
            "Traduire les principaux sites administratifs dans les langues parlées par nos publics.",
            "Que les administrations testent leurs sites avec des personnes en difficulté avant de les "
            "mettre en ligne.",
            "Une seule connexion pour toutes les démarches, vraiment simple, sans code envoyé par SMS à chaque fois.",
            "Des courriers et des notifications compréhensibles, qui disent clairement ce qu'il faut faire.",
            "Arrêter de faire évoluer les sites sans prévenir les professionnels et les usagers.",
            "Automatiser les droits quand c'est possible, pour ne plus dépendre de la capacité de la "
            "personne à remplir un formulaire.",
            "Des applications adaptées aux personnes âgées ou en situation de handicap, avec de gros boutons "
            "et des textes courts.",
            "Pouvoir déposer un justificatif en photo depuis n'importe quel téléphone, sans format imposé.",
            "Un mode d'emploi papier simple pour chaque démarche en ligne, à remettre aux usagers.",
        ],
    ),
    Theme(
        "accompagner_autonomie_usagers",
        9,
        short=[
            "Ateliers numériques",
            "Autonomie des usagers",
            "Former les usagers",
            "Aidants numériques",
            "Accompagner les personnes",
        ],
        tele=[
            "ateliers collectifs pour les usagers",
            "apprendre aux gens à créer leur boîte mail",
            "cours d'informatique pour les seniors",
            "aidants numériques de proximité",
            "accompagner vers l'autonomie plutôt que faire à la place",
            "sensibiliser aux arnaques en ligne",
        ],
        sentences=[
            "Mettre en place des ateliers collectifs pour que les personnes gagnent en autonomie sur leurs démarches.",
            "Proposer des cours d'informatique gratuits pour les seniors, près de chez eux.",
            "Accompagner les personnes pas à pas plutôt que de faire à leur place, même si c'est plus long.",
            "Des ateliers pour apprendre à gérer sa boîte mail, ses mots de passe, ses documents.",
            "Former des bénévoles comme aidants numériques de proximité.",
            "Sensibiliser les usagers aux arnaques et aux faux sites administratifs.",
            "Des ateliers parents-enfants autour des écrans et du numérique.",
            "Un coffre-fort numérique pour les personnes, pour qu'elles ne perdent plus leurs papiers.",
            "Évaluer les compétences numériques des personnes dès le premier rendez-vous pour adapter "
            "l'accompagnement.",
            "Que chaque personne reparte avec un carnet où noter ses identifiants de façon sécurisée.",
            "[educ] Travailler avec les jeunes sur l'usage des réseaux sociaux et l'identité numérique.",
            "[dom] Aider les personnes âgées à utiliser la visio pour garder le lien avec leur famille.",
        ],
    ),
    Theme(
        "temps_et_effectifs",
        9,
        short=[
            "Du temps",
            "Plus de personnel",
            "Recruter",
            "Des moyens humains",
            "Reconnaître le temps passé",
        ],
        tele=[
            "reconnaître le temps passé sur les démarches",
            "plus de personnel",
            "des postes supplémentaires",
            "moins de dossiers par référent",
            "du temps dédié au numérique dans les fiches de poste",
            "des moyens, tout simplement",
        ],
        sentences=[
            "Reconnaître officiellement le temps que nous passons à faire les démarches en ligne avec les personnes.",
            "Recruter : on ne peut pas tout absorber à effectif constant.",
            "Réduire le nombre de situations suivies par professionnel pour retrouver du temps d'accompagnement.",
            "Intégrer l'accompagnement numérique dans nos fiches de poste, avec le temps qui va avec.",
            "Des moyens humains supplémentaires, parce que la dématérialisation a déplacé la charge de "
            "travail vers nous.",
            "Que les financeurs comptent ce temps dans nos missions au lieu de le considérer comme invisible.",
            "Un temps hebdomadaire réservé aux écrits et aux saisies, pour ne pas le prendre sur les rendez-vous.",
            "Revaloriser nos métiers, on nous demande toujours plus pour le même salaire.",
            "Des renforts pendant les périodes de pic (déclarations, rentrée, renouvellements).",
            "Protéger notre temps : un droit à la déconnexion réel, pas de mails après 18 h.",
            "Une charte de bon usage des mails et de Teams dans le service.",
            "[enc] Des postes d'assistants administratifs pour décharger les travailleurs sociaux des saisies.",
        ],
    ),
    Theme(
        "cadre_ethique_rgpd",
        5,
        short=["Cadre éthique", "RGPD", "Un cadre clair", "Guide RGPD", "Sécuriser les données"],
        tele=[
            "un guide clair sur le RGPD",
            "une messagerie sécurisée",
            "une charte éthique du numérique dans le service",
            "un cadre légal pour faire à la place",
            "un DPO joignable",
        ],
        sentences=[
            "Un cadre clair sur ce que nous avons le droit de faire avec les identifiants des personnes.",
            "Une messagerie sécurisée pour échanger avec les partenaires et les usagers.",
            "Un guide pratique du RGPD adapté au travail social, avec des exemples concrets.",
            "Une charte éthique du numérique, construite avec les équipes et les personnes accompagnées.",
            "Généraliser le mandat Aidants Connect pour pouvoir agir pour les personnes dans un cadre légal.",
            "Clarifier qui a accès à nos écrits dans les logiciels, et pourquoi.",
            "Un référent RGPD joignable, qui réponde à nos questions concrètes.",
            "Interdire l'usage des téléphones perso et de WhatsApp, mais en fournissant une vraie alternative.",
            "Informer systématiquement les personnes de ce que deviennent leurs données.",
            "Réfléchir collectivement aux effets du numérique sur le secret professionnel.",
        ],
    ),
    Theme(
        "co_conception_avec_le_terrain",
        6,
        short=[
            "Co-construction",
            "Nous consulter",
            "Demander l'avis du terrain",
            "Co-conception",
            "Écouter le terrain",
        ],
        tele=[
            "associer les pros à la conception des outils",
            "tester les logiciels avec le terrain avant le déploiement",
            "demander l'avis des usagers",
            "des groupes de travail avec les équipes",
            "faire remonter nos besoins aux éditeurs",
        ],
        sentences=[
            "Associer les travailleurs sociaux à la conception des outils, dès le début et pas juste pour "
            "les tester à la fin.",
            "Que les décideurs viennent voir comment on travaille avant de choisir un logiciel.",
            "Des groupes de travail avec les équipes de terrain et les usagers pour concevoir les futurs outils.",
            "Tester les nouvelles plateformes avec quelques services pilotes avant de les imposer à tous.",
            "Faire remonter nos difficultés aux éditeurs et aux administrations, et qu'elles soient vraiment "
            "prises en compte.",
            "Impliquer les personnes accompagnées dans l'évaluation des sites administratifs.",
            "Partir des besoins du terrain, pas des besoins du reporting.",
            'Arrêter les outils pensés "d\'en haut" et imposés sans concertation.',
            "Des enquêtes comme celle-ci, mais suivies d'effets concrets !",
            "Un comité d'usagers du numérique dans chaque département, avec des pros et des personnes accompagnées.",
            "Nous donner la parole sur les outils qui nous concernent : nous savons ce qui marche et ce qui "
            "ne marche pas.",
            "Concevoir les outils avec ceux qui sont au cœur de l'accompagnement, pas dans un bureau parisien.",
        ],
    ),
]

# Answers outside the themes (no difficulty, no idea, a reference to another answer...).
MISC: dict[str, list[str]] = {
    "difficultes": [
        "Pas de difficulté particulière, je suis plutôt à l'aise avec les outils.",
        "Personnellement aucune, mais je vois bien que les personnes que j'accompagne sont en difficulté.",
        "Le numérique nous facilite aussi la vie, il ne faut pas tout voir en noir.",
        "Je n'ai pas de difficulté majeure, c'est surtout une question d'habitude.",
        "Pas vraiment de difficultés pour moi, l'équipe est bien équipée.",
        "Difficile à résumer en quelques lignes.",
        "Les mêmes que tout le monde je pense.",
        "Ça dépend des jours.",
        "Je préfère en parler de vive voix.",
        "[new] Je viens d'arriver dans la structure, je n'ai pas encore assez de recul.",
    ],
    "idees": [
        "Je ne sais pas trop.",
        "Pas d'idée précise, mais il faut que ça change.",
        "Aucune idée, c'est aux décideurs de trouver des solutions.",
        "Je n'ai pas de baguette magique...",
        "Continuer comme ça, ça fonctionne plutôt bien chez nous.",
        "Voir plus haut.",
        "Idem question précédente.",
        "Difficile de répondre, tout dépend des moyens.",
        "Plein d'idées mais pas le temps de les écrire ici !",
        "Rester optimiste ?",
    ],
}

# Paragraph glue. "join" prefixes are glued to the next sentence (lowercased), "open"/"close" stand alone.
GLUE: dict[str, dict[str, list[str]]] = {
    "difficultes": {
        "open": [
            "Plusieurs choses.",
            "Il y a beaucoup à dire.",
            "Vaste question !",
            "Où commencer...",
            "Les difficultés sont nombreuses.",
            "Beaucoup de difficultés au quotidien.",
            "Le numérique a complètement changé notre travail, et pas toujours en bien.",
            "Je vais essayer d'être brève.",
        ],
        "join": [
            "Au quotidien, ",
            "Dans notre service, ",
            "Pour ma part, ",
            "Honnêtement, ",
            "Franchement, ",
            "Dans ma pratique, ",
            "Clairement, ",
            "Depuis quelques années, ",
            "Sur notre territoire, ",
            "Le principal problème : ",
            "Le plus difficile : ",
        ],
        "next": [
            "De plus, ",
            "En plus, ",
            "Par ailleurs, ",
            "Et puis ",
            "Sans compter que ",
            "Autre difficulté : ",
            "Aussi, ",
            "Surtout, ",
            "À cela s'ajoute que ",
        ],
        "close": [
            "Bref, on fait avec.",
            "C'est épuisant.",
            "On s'adapte, mais à quel prix ?",
            "Bref, c'est compliqué.",
            "Merci de vous intéresser à la question.",
            "Ce n'est pas pour ça que j'ai choisi ce métier.",
            "On tient grâce à l'équipe.",
            "Et ça ne va pas en s'améliorant.",
        ],
        "header": ["Plusieurs difficultés :", "En vrac :", "Principales difficultés :", "Au quotidien :"],
    },
    "idees": {
        "open": [
            "Quelques pistes.",
            "Plusieurs idées.",
            "Beaucoup d'idées mais peu de moyens.",
            "Il faudrait plusieurs choses.",
            "Je vois plusieurs pistes.",
        ],
        "join": [
            "Déjà, ",
            "D'abord, ",
            "En priorité, ",
            "Pour moi, ",
            "Il faudrait ",
            "Il faut ",
            "Je propose : ",
            "Avant tout, ",
        ],
        "next": [
            "Ensuite, ",
            "Aussi, ",
            "Et ",
            "Par ailleurs, ",
            "Également, ",
            "Et surtout, ",
            "Il faudrait aussi ",
            "Autre idée : ",
        ],
        "close": [
            "Mais surtout, qu'on nous écoute.",
            "Ce serait déjà un bon début.",
            "On peut rêver...",
            "Merci pour cette enquête.",
            "Sans moyens, rien ne changera.",
            "Le reste suivra.",
        ],
        "header": ["Quelques idées :", "Pistes :", "Nos propositions :", "Idées en vrac :", "Il faudrait :"],
    },
}

# Idea sentences starting with these words cannot follow "Il faut", "Il faudrait"... (a clause, not a phrase).
CLAUSE_STARTS = ("Il ", "Nous ", "Les ", "Le ", "La ", "Ce ", "On ", "Je ", "Du lien")
VERB_GLUE = ("Il faudrait ", "Il faut ", "Il faudrait aussi ")

PLACEHOLDERS: dict[str, int] = {
    "RAS": 6,
    "Non": 3,
    "non": 2,
    "-": 2,
    "/": 2,
    "NSP": 2,
    "Rien": 2,
    "ras.": 1,
    "Aucune": 2,
    "néant": 1,
    " ": 1,
}
P_EMPTY = 0.07
P_PLACEHOLDER = 0.05

STYLES: dict[str, dict[str, int]] = {
    "difficultes": {
        "short": 9,
        "tele": 20,
        "sentence": 22,
        "combo": 15,
        "paragraph": 20,
        "bullets": 10,
        "misc": 4,
    },
    "idees": {
        "short": 12,
        "tele": 22,
        "sentence": 21,
        "combo": 16,
        "paragraph": 14,
        "bullets": 12,
        "misc": 3,
    },
}

# Theme weight multipliers by kind of work.
THEME_BIAS: dict[str, dict[str, float]] = {
    "social": {
        "demarches_dematerialisees": 1.6,
        "identifiants_mots_de_passe": 1.5,
        "confidentialite_donnees": 1.2,
        "acces_et_cout_pour_les_usagers": 1.2,
        "garder_humain_accueil_physique": 1.4,
        "mediateurs_conseillers_numeriques": 1.3,
        "simplifier_demarches_falc": 1.3,
    },
    "emploi": {
        "logiciels_double_saisie": 1.8,
        "charge_mentale_joignabilite": 1.3,
        "demarches_dematerialisees": 1.2,
        "logiciel_unique_interoperabilite": 1.7,
        "temps_et_effectifs": 1.2,
    },
    "educ": {
        "temps_pris_sur_la_relation": 1.5,
        "confidentialite_donnees": 1.3,
        "manque_formation_professionnels": 1.2,
        "temps_et_effectifs": 1.3,
        "cadre_ethique_rgpd": 1.2,
        "accompagner_autonomie_usagers": 1.2,
    },
    "dom": {
        "materiel_reseau": 1.8,
        "acces_et_cout_pour_les_usagers": 1.3,
        "confidentialite_donnees": 0.6,
        "charge_mentale_joignabilite": 0.7,
        "demarches_dematerialisees": 0.8,
        "equipement_connexion": 1.8,
        "garder_humain_accueil_physique": 1.3,
        "logiciel_unique_interoperabilite": 0.6,
    },
    "etab": {
        "manque_formation_professionnels": 1.3,
        "materiel_reseau": 1.3,
        "demarches_dematerialisees": 0.6,
        "acces_et_cout_pour_les_usagers": 0.6,
        "formation_des_professionnels": 1.4,
        "equipement_connexion": 1.4,
    },
    "enc": {
        "charge_mentale_joignabilite": 1.6,
        "absence_support_technique": 1.6,
        "manque_formation_professionnels": 1.3,
        "co_conception_avec_le_terrain": 1.4,
        "temps_et_effectifs": 1.4,
        "logiciel_unique_interoperabilite": 1.2,
    },
}

# Informal writing: abbreviations and typical typos.
ABBREVIATIONS: dict[str, str] = {
    "ordinateurs": "ordis",
    "ordinateur": "ordi",
    "problèmes": "pbs",
    "problème": "pb",
    "toujours": "tjrs",
    "beaucoup": "bcp",
    "rendez-vous": "rdv",
    "quelque chose": "qqch",
    "parce que": "pcq",
    "travailleurs sociaux": "TS",
    "téléphone": "tél",
    "informations": "infos",
    "information": "info",
    "administratif": "admin",
    "quand": "qd",
    "pour": "pr",
}
TYPOS: dict[str, str] = {
    "formation": "formtion",
    "formations": "fromations",
    "difficile": "dificile",
    "connexion": "connection",
    "démarches": "démarhces",
    "personnes": "personnnes",
    "logiciel": "logicel",
    "malheureusement": "malheuresement",
    "accompagnement": "accompagnemnt",
    "numérique": "numériqe",
    "professionnels": "professionels",
    "informatique": "infomatique",
    "téléphone": "téléphonne",
    "rendez-vous": "rendez vous",
    "toujours": "toujour",
    "usagers": "usagés",
}
EMPHASIS = ("tout", "jamais", "rien", "toujours", "vraiment", "aucun", "aucune", "trop", "impossible")
EMOJI = {"difficultes": ["😩", "😤", "🙄", "😅", "🤯", "😓"], "idees": ["🙏", "👍", "🙂", "💡", "🤞", "😉"]}

# Invented personal details for the pseudonymisation step (obviously fake: exemple.fr, 06 12 34 56 78).
PERSONAL: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "utf8": [
        (
            "difficultes",
            "Mme Dupont n'a pas pu renouveler son titre de séjour : le site de la préfecture ne proposait "
            "aucun rendez-vous pendant trois mois, et elle a perdu ses droits CAF entre-temps.",
            ("social", "emploi"),
        ),
        (
            "difficultes",
            "Exemple concret : M. Martin (06 12 34 56 78) n'arrive plus à se connecter à son espace France "
            "Travail depuis qu'il a changé de téléphone, le code de double authentification part sur "
            "l'ancien numéro. Nous avons passé deux rendez-vous là-dessus.",
            ("social", "emploi"),
        ),
        (
            "difficultes",
            "Les usagers nous envoient leurs justificatifs sur nos adresses nominatives (ex. : "
            "jean.martin@exemple.fr), avec avis d'imposition et RIB en pièce jointe. Aucune messagerie "
            "sécurisée à disposition.",
            ("social", "emploi", "educ", "enc"),
        ),
        (
            "idees",
            "Je suis volontaire pour participer à des groupes de travail sur les futurs outils, vous pouvez "
            "me contacter : s.bernard@exemple.fr ou au 07 98 76 54 32.",
            ("social", "emploi", "educ", "dom", "etab", "enc"),
        ),
    ],
    "cp1252": [
        (
            "difficultes",
            "Mme Lefèvre, 82 ans, a dû faire sa demande d'APA en ligne alors qu'elle n'a pas d'ordinateur ; "
            "c'est sa sœur qui s'en est chargée avec son propre compte (soeur.lefevre@exemple.fr), et ça a "
            "bloqué le dossier jusqu'à ce qu'on refasse tout.",
            ("social", "dom", "enc"),
        ),
    ],
}

# ------------------------------------------------------------------------------------------------------------
# Generation
# ------------------------------------------------------------------------------------------------------------

_TAG = re.compile(r"^\[([a-z,]+)\] ")
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Profile:
    """What the text of one respondent may depend on."""

    kind: str  # social, emploi, educ, dom, etab, enc
    tags: tuple[str, ...]  # kind plus "new" for less than 2 years of experience


def _weighted(rng: random.Random, weights: dict[str, float] | dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _usable(text: str, profile: Profile) -> str | None:
    """The text without its tag, or None when the tag excludes this respondent."""
    m = _TAG.match(text)
    if m is None:
        return text
    if any(tag in profile.tags for tag in m.group(1).split(",")):
        return text[m.end() :]
    return None


def _fill(text: str, rng: random.Random, profile: Profile) -> str:
    def slot(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in ("public", "Public"):
            value = rng.choice(PUBLICS[profile.kind])
            return _cap(value) if name == "Public" else value
        return rng.choice(SLOTS[name])

    return _SLOT.sub(slot, text)


def _pick(rng: random.Random, bank: Sequence[str], profile: Profile, avoid: list[str]) -> str:
    pool = [t for t in (_usable(x, profile) for x in bank) if t is not None and t not in avoid]
    choice = rng.choice(pool)
    avoid.append(choice)
    return _fill(choice, rng, profile)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


_KEEP_CASE = ("France", "FranceConnect", "Teams", "Ameli", "Excel", "WhatsApp", "Mme", "M.", "PIX", "Aidants")


def _decap(s: str) -> str:
    first = re.split(r"[ ',:]", s, maxsplit=1)[0]
    if first in _KEEP_CASE or (len(first) > 1 and first[1].isupper()):
        return s
    return s[:1].lower() + s[1:]


def _glue(prefix: str, sentence: str) -> str:
    sentence = _decap(sentence)
    if prefix.endswith(" que ") and sentence[:1].lower() in "aeiouyéèêàâîô":
        return prefix[:-2] + "'" + sentence
    return prefix + sentence


def _themes(rng: random.Random, question: str, profile: Profile, n: int) -> list[Theme]:
    bank = DIFFICULTES if question == "difficultes" else IDEES
    bias = THEME_BIAS.get(profile.kind, {})
    weights = {t.key: t.weight * bias.get(t.key, 1.0) for t in bank}
    chosen: list[Theme] = []
    while len(chosen) < n:
        key = _weighted(rng, weights)
        weights.pop(key)
        chosen.append(next(t for t in bank if t.key == key))
    return chosen


def _can_take_verb(sentence: str) -> bool:
    return not sentence.startswith(CLAUSE_STARTS)


def _paragraph(rng: random.Random, question: str, profile: Profile) -> str:
    glue = GLUE[question]
    themes = _themes(rng, question, profile, rng.choice([1, 2, 2, 3, 3]))
    n_total = rng.randint(3, 6)
    opener = rng.random() < 0.25
    closer = rng.random() < 0.35
    n_body = max(len(themes), n_total - opener - closer)
    counts = [1] * len(themes)
    for _ in range(n_body - len(themes)):
        counts[rng.randrange(len(themes))] += 1
    used: list[str] = []
    body = [_pick(rng, t.sentences, profile, used) for t, k in zip(themes, counts, strict=True) for _ in range(k)]
    parts: list[str] = []
    if opener:
        parts.append(rng.choice(glue["open"]))
    prefixes_used: list[str] = []
    for i, sentence in enumerate(body):
        pool = glue["join"] if i == 0 else glue["next"]
        p_glue = (0.0 if opener else 0.35) if i == 0 else 0.45
        glued = rng.random() < p_glue
        if glued:
            prefix = rng.choice([p for p in pool if p not in prefixes_used])
            if question == "idees" and prefix in VERB_GLUE and not _can_take_verb(sentence):
                prefix = "Aussi, " if i else "Déjà, "
            prefixes_used.append(prefix)
            sentence = _glue(prefix, sentence)
        if i == len(body) - 1 and i > 1 and not closer and not glued and rng.random() < 0.3:
            sentence = _glue("Enfin, ", sentence)
        parts.append(sentence)
    if closer:
        parts.append(rng.choice(glue["close"]))
    if len(parts) >= 4 and rng.random() < 0.2:
        cut = rng.randint(2, len(parts) - 1)
        return " ".join(parts[:cut]) + "\n" + " ".join(parts[cut:])
    return " ".join(parts)


def _item(rng: random.Random, theme: Theme, profile: Profile, used: list[str]) -> str:
    r = rng.random()
    if r < 0.55:
        return _pick(rng, theme.tele, profile, used)
    if r < 0.75:
        return _pick(rng, theme.short, profile, used).rstrip(" !")
    return _pick(rng, theme.sentences, profile, used).rstrip(".")


def _bullets(rng: random.Random, question: str, profile: Profile) -> str:
    n = rng.choice([2, 3, 3, 4, 4, 5])
    themes = _themes(rng, question, profile, n)
    used: list[str] = []
    items = [_item(rng, t, profile, used) for t in themes]
    capital = rng.random() < 0.6
    end = rng.choice(["", "", "", ";", "."])
    mark = rng.choice(["- ", "- ", "• ", "* ", "1. ", "1) "])
    lines = []
    for k, item in enumerate(items, start=1):
        text = _cap(item) if capital else _decap(item)
        if end and not text.endswith(("?", "!", ".")):
            text += "." if end == "." or k == len(items) else end
        bullet = f"{k}{mark[1:]}" if mark[0] == "1" else mark
        lines.append(bullet + text)
    if rng.random() < 0.5:
        lines.insert(0, rng.choice(GLUE[question]["header"]))
    if rng.random() < 0.12:
        lines.append(rng.choice(GLUE[question]["close"]))
    return "\n".join(lines)


def _combo(rng: random.Random, question: str, profile: Profile) -> str:
    themes = _themes(rng, question, profile, rng.choice([2, 2, 3]))
    used: list[str] = []
    r = rng.random()
    if r < 0.5:
        parts = [_pick(rng, t.tele, profile, used) for t in themes]
        if any("," in part for part in parts):
            sep = rng.choice([" + ", " / ", " ; "])
        else:
            sep = rng.choice([", ", " + ", " / ", " ; ", ", "] + ([" et "] if len(parts) == 2 else []))
        text = sep.join(parts)
        if sep == ", " and rng.random() < 0.5:
            text = ", ".join(parts[:-1]) + " et " + parts[-1]
        text = _cap(text) if rng.random() < 0.7 else text
        return text + rng.choice(["", "", ".", "...", " !"])
    if r < 0.8:
        sentences = [_pick(rng, t.sentences, profile, used) for t in themes[:2]]
        if rng.random() < 0.4:
            glue = rng.choice(GLUE[question]["next"])
            if not (question == "idees" and glue in VERB_GLUE and not _can_take_verb(sentences[1])):
                sentences[1] = _glue(glue, sentences[1])
        return " ".join(sentences)
    # a short label followed by an explanation
    label = _pick(rng, themes[0].short, profile, used).rstrip(" !")
    return f"{label} : {_decap(_pick(rng, themes[0].sentences, profile, used))}"


def _short(rng: random.Random, question: str, profile: Profile) -> str:
    themes = _themes(rng, question, profile, 2)
    used: list[str] = []
    text = _pick(rng, themes[0].short, profile, used)
    r = rng.random()
    if r < 0.15:
        second = _decap(_pick(rng, themes[1].short, profile, used)).rstrip(" !")
        text = text.rstrip(" !") + rng.choice([" et ", ", ", " / "]) + second
    if text.endswith("!"):
        return text.upper() if rng.random() < 0.15 else text
    if rng.random() < 0.15:
        return text.upper() + rng.choice(["", " !", " !!!"])
    return text + rng.choice(["", "", "", ".", " !"])


def _tele(rng: random.Random, question: str, profile: Profile) -> str:
    theme = _themes(rng, question, profile, 1)[0]
    text = _pick(rng, theme.tele, profile, [])
    if rng.random() < 0.6:
        text = _cap(text)
    return text + rng.choice(["", "", "", ".", "...", " !"])


def _sentence(rng: random.Random, question: str, profile: Profile) -> str:
    theme = _themes(rng, question, profile, 1)[0]
    text = _pick(rng, theme.sentences, profile, [])
    if rng.random() < 0.15:
        prefix = rng.choice(GLUE[question]["join"])
        if not (question == "idees" and prefix in VERB_GLUE and not _can_take_verb(text)):
            text = _glue(prefix, text)
    return text


def _misc(rng: random.Random, question: str, profile: Profile) -> str:
    return _pick(rng, MISC[question], profile, [])


BUILDERS = {
    "short": _short,
    "tele": _tele,
    "sentence": _sentence,
    "combo": _combo,
    "paragraph": _paragraph,
    "bullets": _bullets,
    "misc": _misc,
}

# ------------------------------------------------------------------------------------------------------------
# Surface variation: informal writing, capitals, typography, emoji
# ------------------------------------------------------------------------------------------------------------


def _strip_accents(text: str) -> str:
    out = []
    for ch in text:
        if ch.islower() and ch != "œ":
            ch = unicodedata.normalize("NFD", ch)[0]
        out.append(ch)
    return "".join(out)


def _informal(rng: random.Random, text: str) -> str:
    for word, abbr in ABBREVIATIONS.items():
        text = re.sub(rf"\b{word}\b", lambda m, a=abbr: a if rng.random() < 0.6 else m.group(0), text)
    typos = [w for w in TYPOS if re.search(rf"\b{w}\b", text)]
    for word in rng.sample(typos, min(len(typos), rng.choice([0, 1, 1, 2]))):
        text = re.sub(rf"\b{word}\b", TYPOS[word], text, count=1)
    if rng.random() < 0.5:
        text = _strip_accents(text)
    if rng.random() < 0.6:
        text = _decap(text)
    if rng.random() < 0.6 and "\n" not in text:
        text = text.rstrip(".")
    if rng.random() < 0.2:
        text = re.sub(r" ?!$", "!!!", text) if text.endswith("!") else text.rstrip(".") + " !!"
    return text


def _shout(rng: random.Random, text: str) -> str:
    words = [w for w in EMPHASIS if re.search(rf"\b{w}\b", text)]
    if not words:
        return text
    word = rng.choice(words)
    return re.sub(rf"\b{word}\b", word.upper(), text, count=1)


def _typography(rng: random.Random, text: str, cp1252: bool) -> str:
    mode = _weighted(rng, {"fr": 30, "fr_apostrophe": 10, "plain": 38, "tight": 22})
    if mode in ("fr", "fr_apostrophe"):
        text = text.replace("'", "’")
    if mode == "fr":
        thin = NBSP if cp1252 or rng.random() < 0.5 else NNBSP
        text = re.sub(r'"([^"\n]+)"', f"«{NBSP}\\1{NBSP}»", text)
        text = re.sub(r" ([!?;])", f"{thin}\\1", text)
        text = re.sub(r" :", f"{NBSP}:", text)
        if rng.random() < 0.5:
            text = text.replace("...", "…")
    elif mode == "tight":
        text = re.sub(r" ([!?;:])", r"\1", text)
    return text


def _decorate(rng: random.Random, question: str, text: str, cp1252: bool) -> str:
    if rng.random() < 0.15:
        text = _informal(rng, text)
    if rng.random() < 0.06:
        text = _shout(rng, text)
    text = _typography(rng, text, cp1252)
    if not cp1252 and rng.random() < 0.035:
        emoji = rng.choice(EMOJI[question])
        text = (text[:-1] if text.endswith(".") else text) + " " + emoji
    return text


# ------------------------------------------------------------------------------------------------------------
# Rows and files
# ------------------------------------------------------------------------------------------------------------


def _statuses(rng: random.Random, n: int) -> list[str]:
    """Which answers of a question are empty, placeholders or real text: exact shares, random rows."""
    n_empty, n_placeholder = round(n * P_EMPTY), round(n * P_PLACEHOLDER)
    statuses = ["empty"] * n_empty + ["placeholder"] * n_placeholder + ["text"] * (n - n_empty - n_placeholder)
    rng.shuffle(statuses)
    return statuses


def _answer(rng: random.Random, question: str, status: str, profile: Profile, seen: list[str], cp1252: bool) -> str:
    if status == "empty":
        return ""
    if status == "placeholder":
        return _weighted(rng, PLACEHOLDERS)
    for _ in range(50):
        style = _weighted(rng, STYLES[question])
        text = _decorate(rng, question, BUILDERS[style](rng, question, profile), cp1252)
        if len(text) < 40 or text not in seen:  # long answers are never repeated word for word
            break
    seen.append(text)
    return text


def _profession_label(profession: str, cp1252: bool) -> str:
    return profession.replace("·", ".") if cp1252 else profession


def _cp1252_safe(text: str) -> str:
    text = text.replace("·", ".").replace(NNBSP, NBSP)
    text.encode("cp1252")  # raises UnicodeEncodeError on anything left that cp1252 lacks
    return text


def make_rows(seed: int, n: int, id_prefix: str, cp1252: bool) -> list[list[str]]:
    rng = random.Random(seed)
    seen: dict[str, list[str]] = {"difficultes": [], "idees": []}
    rows: list[list[str]] = []
    profiles: list[Profile] = []
    keys: list[tuple[str, ...]] = []
    statuses = {q: _statuses(rng, n) for q in ("difficultes", "idees")}  # independent per question
    while len(rows) < n:
        profession = _weighted(rng, {p: w for p, (w, _) in PROFESSIONS.items()})
        structure = _weighted(rng, STRUCTURES_BY_PROFESSION[profession])
        kind = PROFESSIONS[profession][1]
        if profession == "AES" and structure != "service d'aide à domicile":
            kind = "etab"
        region = _weighted(rng, REGIONS)
        anciennete = _weighted(rng, ANCIENNETE)
        profile = Profile(kind, (kind, "new") if anciennete == "moins de 2 ans" else (kind,))
        answers = [_answer(rng, q, statuses[q][len(rows)], profile, seen[q], cp1252) for q in ("difficultes", "idees")]
        attributes = [_profession_label(profession, cp1252), structure, region, anciennete]
        key = (*attributes, *answers)
        if key in keys:  # no two rows alike, id aside
            continue
        keys.append(key)
        profiles.append(profile)
        rows.append([f"{id_prefix}{len(rows) + 1:04d}", *attributes, *answers])

    # A few answers mention (invented) personal details, for the pseudonymisation step.
    taken: list[int] = []
    for question, text, kinds in PERSONAL["cp1252" if cp1252 else "utf8"]:
        col = COLUMNS.index(question)
        candidates = [
            i for i, p in enumerate(profiles) if p.kind in kinds and i not in taken and statuses[question][i] == "text"
        ]
        i = rng.choice(candidates)
        taken.append(i)
        rows[i][col] = text.replace("'", "’") if cp1252 else _typography(rng, text, cp1252)

    if cp1252:
        rows = [[_cp1252_safe(cell) for cell in row] for row in rows]
    return rows


def write_csv(path: Path, rows: list[list[str]], *, encoding: str, delimiter: str, lineterminator: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator=lineterminator, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent.parent / "data")
    args = parser.parse_args(argv)

    utf8_rows = make_rows(SEED_UTF8, N_UTF8, "R", cp1252=False)
    cp_rows = make_rows(SEED_CP1252, N_CP1252, "W", cp1252=True)

    cp_text = "".join(cell for row in cp_rows for cell in row)
    missing = [ch for ch in "éèàçœ’" if ch not in cp_text]
    if missing:
        raise SystemExit(f"the cp1252 sample lacks {missing}: a wrong decoding would not show")

    utf8_path = args.out_dir / "sample_survey.csv"
    cp_path = args.out_dir / "sample_survey_cp1252.csv"
    write_csv(utf8_path, utf8_rows, encoding="utf-8", delimiter=";", lineterminator="\n")
    write_csv(cp_path, cp_rows, encoding="cp1252", delimiter=",", lineterminator="\r\n")
    print(f"wrote {utf8_path} ({len(utf8_rows)} respondents) and {cp_path} ({len(cp_rows)} respondents)")


if __name__ == "__main__":
    main()
