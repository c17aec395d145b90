"""Write ``pseudonymisation_gold.jsonl``: invented French survey answers with their personal data labelled.

Run ``python tests/data/make_pseudonymisation_gold.py``. Each sentence below marks its personal data inline as
``{{text|CODE}}`` (P: PERSONNE, E: EMAIL, T: TÉLÉPHONE, A: ADRESSE, N: NUMÉRO, U: URL, D: DATE DE NAISSANCE);
the script removes the marks, computes the offsets and checks each one (``text[start:end]`` is the marked string).

All sentences, names, numbers and addresses are invented. Span conventions: a civility stays outside the name
("Mme {{Dupont|P}}"), a first name and its surname make one span, an address runs from its number to the end of the
street name or of the city after a postcode, a number or a date is masked without the words announcing it.

``DEVELOPMENT`` was written first and used to tune the rules. ``HELD_OUT`` (the last 25 % of the file) was written
after the rules were frozen, with names and shapes the rules and the first-name list do not contain, to measure how
the rules generalise; ``bench/pseudonymisation.py`` reports it separately.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

CODES = {
    "P": "PERSONNE",
    "E": "EMAIL",
    "T": "TÉLÉPHONE",
    "A": "ADRESSE",
    "N": "NUMÉRO",
    "U": "URL",
    "D": "DATE DE NAISSANCE",
}
MARK = re.compile(r"\{\{(.+?)\|([PETANUD])\}\}")

# fmt: off
DEVELOPMENT = [
    # --- no personal data: institutions, professions, software, places, amounts, dates of events -------------
    "Depuis la dématérialisation, la moitié de mes rendez-vous servent à créer des comptes Ameli ou CAF.",
    "Les usagers n'ont pas tous un smartphone, et France Connect reste un mystère pour beaucoup.",
    "Nous utilisons Teams pour les réunions d'équipe mais les partenaires préfèrent Zoom.",
    "Le logiciel Solis plante au moins trois fois par semaine.",
    "IODAS est lent, on perd facilement 20 minutes par dossier.",
    "Grâce à la Maison France Services, les familles peuvent scanner leurs documents gratuitement.",
    "J'ai fait 3 rendez-vous ce matin, tous pour des problèmes de mot de passe.",
    "Le 12 mars, la CAF a changé son interface sans prévenir personne.",
    "Une aide de 150 euros a été versée en 2023 pour l'équipement numérique.",
    "Madame la directrice a demandé un bilan des démarches en ligne.",
    "Monsieur le maire soutient le projet d'espace public numérique.",
    "À la Mission locale de Rennes, les jeunes viennent surtout pour Parcoursup et le CEJ.",
    "Pôle emploi est devenu France Travail et tout a changé dans l'espace personnel.",
    "Les assistantes sociales du Département passent un tiers de leur temps sur des plateformes.",
    "On nous demande de tout saisir dans Excel puis dans Word, c'est une double saisie permanente.",
    "La MDPH de Loire-Atlantique met six mois à répondre aux demandes d'AAH.",
    "Le CCAS de Marseille a ouvert une permanence numérique le mardi de 9h à 12h.",
    "Beaucoup de bénéficiaires du RSA n'ont pas d'adresse mail valide.",
    "Les Restos du cœur nous orientent des personnes qui n'ont jamais utilisé un ordinateur.",
    "WhatsApp est devenu l'outil principal pour joindre les familles, ce qui pose des questions de RGPD.",
    "On travaille avec la Croix-Rouge et le Secours populaire sur l'aide alimentaire.",
    "Le 3949 de France Travail sature dès 9 heures.",
    "En 2022, nous avons accompagné 1 250 personnes pour des démarches ANTS.",
    "Les aides à domicile utilisent une application de télégestion qui bugue en zone blanche.",
    "Le marin pêcheur que j'accompagne n'a jamais eu d'ordinateur.",
    "J'ai acheté une rose pour le départ en retraite de ma collègue.",
    "Les murs de la salle d'attente de la PMI sont peints couleur olive.",
    "Les éducateurs spécialisés de l'ASE rédigent leurs rapports sur un logiciel inadapté.",
    "La préfecture de Seine-Saint-Denis n'accorde plus de rendez-vous qu'en ligne.",
    "Sans FranceConnect, impossible d'accéder à Ameli, aux impôts et à la CAF.",
    "La conseillère numérique du CIAS vient une fois par mois.",
    "On a perdu 2 heures avec la hotline de Doctolib pour une prise de rendez-vous.",
    "RAS.",
    "Non.",
    "Trop de plateformes, pas assez d'humain.",
    "Le Conseil départemental a imposé un nouvel outil en janvier sans formation.",
    "Emmaüs Connect fournit des cartes SIM solidaires à 5 euros par mois.",
    "Mes collègues de la CPAM de Lille répondent par mail sous 15 jours.",
    "Les jeunes suivis par la PJJ ont des téléphones mais pas de forfait data.",
    "Je passe environ 40 % de mon temps à faire à la place des gens.",
    "Les permanences ont lieu le jeudi à 14h30 au centre social.",
    "Depuis le 1er janvier, la demande de prime d'activité se fait uniquement sur caf.fr.",
    "Les résidents de l'EHPAD appellent leurs familles en visio sur une tablette.",
    "Les dossiers MDPH en ligne vont plus vite mais les familles ne savent pas joindre les justificatifs.",
    "Notre association finance 12 ordinateurs reconditionnés par an.",
    "La mairie de Toulouse a fermé son guichet pour les cartes d'identité.",
    "Outlook, Teams, Solis, le portail du Département : quatre mots de passe à retenir chaque matin.",
    "Chez les auxiliaires de vie, le planning arrive par SMS la veille à 22h.",
    "La CARSAT et la MSA ne communiquent pas entre elles, il faut tout renvoyer.",
    "Il faudrait une certification Pix pour les travailleurs sociaux.",
    "Mon chef de service refuse que l'on utilise Google Drive pour les documents des usagers.",
    "La Banque Postale ferme des agences et les allocataires ne savent pas utiliser l'appli.",
    "L'URSSAF a envoyé 300 courriers à des auto-entrepreneurs qui n'ont jamais créé de compte.",
    "Les CESF du CCAS de Nantes montent les dossiers de surendettement sur le site de la Banque de France.",
    "Le Secours catholique prête un ordinateur portable pour 3 mois.",
    "Ce que je voudrais : un interlocuteur humain à la CAF, pas un chatbot.",
    "Nous avons reçu 42 demandes de cartes Vitale perdues depuis septembre.",
    "La PMI de Grenoble utilise encore des dossiers papier, ce qui nous va bien.",
    "Le rendez-vous du 3 avril a été annulé par la préfecture via un simple mail automatique.",
    "Entre 8h et 9h, la plateforme de l'ANTS est inaccessible.",
    "À Montpellier, le Département teste un coffre-fort numérique pour les personnes sans domicile.",
    "L'AAH est versée avec deux mois de retard depuis la réforme.",
    "La rose des vents du logo a été dessinée par les jeunes du foyer.",
    "Les CV se font sur Canva avec les jeunes de la Mission locale.",
    "Parfois on passe une heure sur un mot de passe oublié.",
    "En tant qu'éducatrice, je n'ai jamais été formée au numérique.",
    "Le Samu social de Paris utilise le SI-SIAO pour les orientations.",
    "Les familles monoparentales du quartier n'ont souvent qu'un seul téléphone pour quatre.",
    "La CNIL a rappelé que WhatsApp n'est pas adapté aux échanges avec les usagers.",
    "Nous faisons appel à un interprète par téléphone pour les démarches en ligne.",
    "Il faut compter 45 minutes pour une demande d'APL en ligne.",
    "Depuis mars 2020 et le Covid, tout est passé en dématérialisé.",
    "Le pôle solidarité de la métropole de Lyon a recruté deux médiateurs numériques.",
    "Les travailleurs sociaux de la CAF de Bordeaux n'ont plus d'accueil physique.",
    "À la PASS de l'hôpital, les patients n'ont souvent pas de carte Vitale.",
    "Impossible de joindre la CPAM avant 10h, même avec le 3646.",
    "Aide à domicile depuis 15 ans, je remplis maintenant mes feuilles d'heures sur une appli.",
    "Le référent RSA du Département voit ses usagers en visio une fois sur deux.",
    "Les travailleurs de l'ESAT apprennent à utiliser leur boîte mail en atelier.",
    "La fracture numérique touche aussi les jeunes, contrairement aux idées reçues.",
    "Le tribunal judiciaire envoie les convocations par mail, mais les mandataires ne les reçoivent pas toujours.",
    "On a testé ChatGPT pour rédiger des courriers, la direction l'a interdit.",
    "Les délais de la MDPH du Nord dépassent 8 mois.",
    "Les conseillers France Travail ont 200 demandeurs d'emploi chacun en portefeuille.",
    "Le lundi, c'est la journée des démarches ANTS et carte grise.",
    "La PMI et l'ASE partagent un logiciel depuis novembre 2021.",
    "Un jeune sur trois arrive à la Mission locale sans adresse mail.",
    "Nous accueillons environ 60 personnes par semaine à l'épicerie solidaire.",
    "Les démarches pour la complémentaire santé solidaire prennent 30 minutes au minimum.",
    "Le service de tutelle de l'UDAF gère 450 mesures avec un logiciel vieillissant.",
    "L'écrivain public de la médiathèque reçoit sur rendez-vous le samedi matin.",
    "Un ordinateur à 200 € reste inaccessible pour la plupart des familles que je suis.",
    "Ameli, impots.gouv.fr, service-public.fr : tout le monde n'a pas les codes.",
    "Le collège Jean Moulin prête des tablettes aux élèves de 6e.",
    "La crèche est près de la place Victor Hugo, à deux pas de la CAF.",
    "Les bénévoles d'ATD Quart Monde animent un atelier numérique le mercredi.",
    "Je suis moniteur-éducateur en foyer et nous n'avons qu'un ordinateur pour 12 jeunes.",
    "Le dispositif Aidants Connect nous permet de faire les démarches de façon sécurisée.",
    "Mon Espace Santé reste inconnu de la majorité des patients.",
    "La Poste propose des ateliers, mais à Limoges ils sont complets jusqu'en juin.",
    "On manque de temps : 25 minutes par personne, c'est trop court.",
    "Le site www.service-public.fr est clair, mais il faut savoir lire.",
    "Tout passe par https://www.caf.fr maintenant, même les réclamations.",
    "Dossier déposé le 15/09/2023, toujours sans réponse de la MDPH.",
    "Les rendez-vous sont fixés entre 13h30 et 16h, trois fois par semaine.",

    # --- person names --------------------------------------------------------------------------------------
    "J'ai accompagné {{Rose|P}} hier à la CAF pour renouveler sa demande d'APL.",
    "Mme {{Rose|P}} de la CAF m'a rappelée pour le dossier.",
    "{{Fatou Diallo|P}} est venue avec son fils {{Mohamed|P}} au CCAS de Lyon.",
    "M. {{Nguyen|P}} n'a pas de compte Ameli et ne comprend pas France Connect.",
    "{{Jean-Pierre de La Fontaine|P}}, bénévole chez Emmaüs, m'a aidée à installer Zoom.",
    "{{Pierre Martin|P}} a enfin obtenu son RSA grâce à un conseiller numérique.",
    "mme {{dupont|P}} souhaite un rendez-vous pour sa déclaration de ressources.",
    "Monsieur {{Martin|P}} ne sait pas lire, donc les mails de France Travail lui sont inutiles.",
    "Mlle {{Bernard|P}} a perdu ses identifiants Ameli pour la troisième fois.",
    "Le Dr {{Lefebvre|P}} envoie ses certificats pour la MDPH par Doctolib.",
    "{{Marie-Claire|P}} gère toute seule les inscriptions au Secours populaire.",
    "J'ai vu {{Marine|P}} ce matin, elle n'arrive toujours pas à se connecter.",
    "C'est {{Olive|P}}, notre stagiaire, qui a formé l'équipe à Teams.",
    "M. {{Martin|P}} de France Travail ne répond jamais aux mails.",
    "{{Julie|P}} du CCAS m'a transmis la liste des personnes sans adresse mail.",
    "mr {{kowalski|P}} est venu trois fois pour la même démarche ANTS.",
    "madame {{traoré|P}} ne sait pas utiliser son téléphone pour recevoir les codes.",
    "J'ai orienté {{Mamadou Traoré|P}} vers l'espace France Services de Grenoble.",
    "Mme {{Nguyen Thi|P}} ne parle pas français et l'interprète n'était pas disponible.",
    "Madame {{Popescu|P}} attend son titre de séjour depuis huit mois.",
    "M. {{X|P}} refuse toute démarche en ligne.",
    "Mme {{B|P}}. a reçu un courrier de la CAF qu'elle ne comprend pas.",
    "Avec {{Ahmed|P}} et {{Sofiane|P}}, on a créé leurs CV sur Canva.",
    "{{Aïcha Benali|P}} a eu son rendez-vous à la préfecture grâce à l'espace numérique.",
    "Monsieur {{Le Goff|P}} a 82 ans et n'a jamais eu d'ordinateur.",
    "Mme {{de Villepin|P}} souhaitait que je remplisse le formulaire à sa place.",
    "{{Ibrahim N'Diaye|P}} a obtenu son CEJ après trois rendez-vous.",
    "La petite {{Inès|P}} fait les démarches pour sa mère sur son téléphone.",
    "{{Camille|P}} et {{Nicolas|P}} de la Mission locale animent un atelier CV.",
    "Mme {{DUPONT|P}} a signé son contrat de location en ligne.",
    "M. {{Diallo|P}}, 67 ans, n'a pas de carte Vitale à jour.",
    "J'ai appelé {{Nathalie Roux|P}} de la CPAM pour débloquer le dossier.",
    "{{Sébastien|P}} m'a dit qu'il avait perdu son téléphone avec tous ses codes.",
    "Le fils de Mme {{Garcia|P}} l'aide pour les papiers mais il est souvent absent.",
    "Monsieur et Madame {{Kowalski|P}} ont reçu une demande de remboursement de la CAF.",
    "{{Youssef|P}} et sa sœur {{Salma|P}} viennent tous les mardis à l'atelier.",
    "M. {{Ben Ali|P}} voulait savoir si Doctolib était payant.",
    "{{Rachid El Amrani|P}}, demandeur d'emploi, n'a pas de connexion internet chez lui.",
    "Mme {{Van der Berg|P}} est arrivée des Pays-Bas et ne connaît pas FranceConnect.",
    "J'ai aidé {{Catherine|P}} à déclarer ses revenus sur impots.gouv.fr.",
    "{{Mohamed|P}} n'a pas pu se connecter à son espace France Travail.",
    "Le Dr {{Mercier|P}} ne transmet rien par messagerie sécurisée.",
    "Mme {{Fontaine|P}}, auxiliaire de vie, note ses heures sur une appli qui bugue.",
    "Avec Mme {{Petit|P}}, on a mis deux heures à retrouver son mot de passe Ameli.",
    "{{Thomas Girard|P}}, 19 ans, suivi par la Mission locale, n'a pas de mail.",
    "{{Fatou|P}} ne sait pas lire le français mais elle utilise WhatsApp tous les jours.",
    "Monsieur {{Traoré|P}} a reçu son attestation de droits par la Poste.",
    "{{Jean-Claude|P}} a 75 ans et découvre la tablette avec les bénévoles.",
    "J'ai montré à {{Sarah|P}} comment scanner un document avec son smartphone.",
    "Madame {{Moreau|P}} attend le versement de l'AAH depuis trois mois.",
    "{{Ousmane Cissé|P}} a trouvé un emploi grâce au site de France Travail.",
    "{{Lucie|P}} et moi faisons les visites à domicile avec une tablette.",
    "M. {{Rousseau|P}}, chef de service, a validé l'achat de deux ordinateurs.",
    "Mme {{Lambert|P}} m'a confié qu'elle avait honte de ne pas savoir utiliser Internet.",
    "{{Anne-Sophie|P}}, l'assistante sociale du collège, reçoit beaucoup de parents perdus.",
    "L'éducatrice {{Sabrina|P}} a organisé un atelier sur les réseaux sociaux.",
    "{{Pierre|P}} a perdu sa carte Vitale et ne sait pas la commander en ligne.",
    "Il faut que je rappelle M. {{Faure|P}} pour son dossier de retraite.",
    "Mme {{Chevalier|P}} a été radiée de France Travail pour une convocation jamais lue.",
    "{{Karim|P}} a enfin activé son compte CAF après cinq tentatives.",
    "Madame {{Ivanova|P}} est ukrainienne et fait tout sur son téléphone.",
    "Les enfants de M. {{Öztürk|P}} traduisent les courriers de la CAF.",
    "{{Aminata Camara|P}} n'a pas de RIB et ne peut pas recevoir ses allocations.",
    "Mme {{Bouzid|P}} a reçu 3 SMS frauduleux se faisant passer pour Ameli.",
    "monsieur {{Durand|P}} n'arrive pas à prendre rendez-vous à la préfecture.",
    "J'accompagne {{Jade|P}}, 17 ans, pour son inscription sur Parcoursup.",
    "{{Vincent|P}}, mon collègue éducateur, utilise son téléphone personnel avec les jeunes.",
    "M. {{Mercier|P}} et Mme {{Mercier|P}} ont deux comptes Ameli séparés.",
    "Mme {{Leroy|P}}, aide à domicile, a perdu 2 heures avec l'appli de pointage.",
    "{{Moussa Keita|P}} ne sait pas écrire et dicte ses messages vocaux.",
    "Monsieur {{DIALLO Amadou|P}} vient chaque semaine au CCAS.",
    "{{Youssef|P}} a 25 ans, il est suivi par la Mission locale de Toulouse.",
    "mlle {{garcia|P}} préfère venir au bureau que d'utiliser le site.",
    "Mme {{Haddou|P}} ne sait pas qu'elle a droit à la prime d'activité.",
    "{{Martine|P}} m'a appelée pour son renouvellement de CSS.",
    "Le Dr {{Simon|P}} refuse les rendez-vous Doctolib pour ses patients âgés.",
    "Mme {{Martin-Leroux|P}}, curatrice, transmet tout par courrier.",
    "{{Pauline|P}} de l'UDAF m'a envoyé les relevés bancaires par WhatsApp.",
    "Madame {{Rose|P}} n'a pas de téléphone portable.",
    "Mme {{Benhamou|P}} ne peut pas créer de compte Ameli sans numéro de téléphone.",
    "Je suis allée chez M. {{Petitjean|P}} pour installer sa box internet.",
    "J'ai rencontré {{Olga|P}} au point numérique, elle ne parlait que russe.",
    "{{Amadou|P}} et {{Moussa|P}} préparent leur permis sur Ornikar.",
    "{{Leila|P}} a refusé de donner son mot de passe à la conseillère.",
    "M. {{Ferreira|P}} a besoin d'aide pour sa demande de retraite sur le site de la CARSAT.",
    "{{Marion|P}}, éducatrice à l'ASE, tient à voir les jeunes en vrai, pas en visio.",
    "Mme {{Cissé|P}} est venue au CCAS parce que la CAF lui réclame 1 200 euros.",
    "{{Antoine|P}}, infirmier du CMP, s'inquiète de l'usage des réseaux sociaux par les ados.",
    "M. et Mme {{Camara|P}} n'ont qu'une adresse mail pour toute la famille.",
    "{{Nadia|P}} a 34 ans et elle gère tout sur son téléphone.",
    "Avec {{Mathilde|P}}, on a construit un guide papier des démarches en ligne.",
    "J'ai accompagné M. {{Hamidi|P}} à la CPAM de Nanterre pour son dossier.",
    "{{Simone|P}} est aveugle et les sites ne sont pas accessibles.",
    "La fille de Mme {{Nguyen|P}} fait toutes les démarches sur son téléphone.",
    "Monsieur {{Bakari|P}} souhaitait déposer sa demande d'asile en ligne.",
    "{{Ali|P}} a été orienté par le 115 vers notre accueil de jour.",
    "{{Jean|P}}, bénévole à la Croix-Rouge, passe ses mardis à expliquer Ameli.",
    "Dr {{Haddad|P}} a rédigé le certificat pour la MDPH.",

    # --- phones, e-mails ----------------------------------------------------------------------------------
    "Madame {{Kowalski|P}} m'a donné son numéro : {{06 12 34 56 78|T}}.",
    "J'ai appelé {{Karim|P}} au {{07.81.22.45.90|T}} pour lui rappeler son rendez-vous.",
    "Son portable : {{06-45-78-12-33|T}}, elle ne répond qu'aux SMS.",
    "Joignable au {{+33 6 52 18 47 09|T}} jusqu'à 17h.",
    "Le fils de monsieur laisse toujours son numéro, {{+33 (0)7 61 23 45 98|T}}, sur les formulaires.",
    "Numéro fixe de la famille : {{01 43 56 78 21|T}}.",
    "Elle a noté {{0612458790|T}} au lieu de son vrai numéro sur le dossier.",
    "Tél. {{04 78 62 15 30|T}}, poste 12.",
    "Il m'a rappelé depuis le {{+33612457812|T}} pour me dire que c'était réglé.",
    "Sa mère au Maroc : {{+212 6 61 23 45 67|T}}.",
    "Portable de sa tante : {{0033 6 98 76 54 32|T}}.",
    "Le numéro {{09.72.11.22.33|T}} ne répond plus depuis la résiliation.",
    "Contact pris au {{06 72 18 90 45|T}} avec {{Julien|P}}, son frère.",
    "Son adresse mail est {{fatou.diallo93@gmail.com|E}} mais elle ne la consulte jamais.",
    "J'ai créé l'adresse {{jeanmichel.bernard1957@orange.fr|E}} avec lui pendant le rendez-vous.",
    "Elle utilise le mail de sa fille, {{ines.k2004@hotmail.fr|E}}, pour tout.",
    "Écrivez-moi à {{s.mercier@ccas-villeurbanne.fr|E}} pour les dossiers urgents.",
    "Mail envoyé à {{karim_benali@yahoo.fr|E}} sans réponse.",
    "Son identifiant Ameli est son adresse {{moussa.keita@laposte.net|E}}, qu'il a oubliée.",
    "J'ai transféré les justificatifs à {{contact.famille.nguyen@gmail.com|E}}.",
    "Adresse de messagerie : {{rose.martin75@free.fr|E}}, téléphone : {{06 33 21 45 87|T}}.",
    "Mme {{Durand|P}} ({{m.durand@sfr.fr|E}}) a reçu un mail de phishing.",

    # --- numbers: NIR, IBAN, CAF, France Travail ---------------------------------------------------------
    "Son numéro de sécurité sociale, {{2 84 07 13 055 123 45|N}}, était faux sur le formulaire.",
    "NIR : {{185037512345678|N}}.",
    "Le numéro de sécu {{1 62 11 99 352 041|N}} n'est pas reconnu par Ameli.",
    "Carte Vitale au nom de sa mère, n° {{2 90 12 2A 004 017 33|N}}.",
    "IBAN communiqué par la famille : {{FR76 1027 8060 6100 0205 6780 143|N}}.",
    "Le RIB porte l'IBAN {{FR7630006000011234567890189|N}} mais la CAF dit qu'il est invalide.",
    "N° allocataire {{2345678|N}}, dossier bloqué depuis avril.",
    "Identifiant France Travail : {{4567123B|N}}, à réinscrire.",
    "Numéro CAF : {{7654321|N}}, il faut rappeler pour le contrôle.",
    "Son numéro d'allocataire c'est le {{0987654|N}}, elle l'a noté sur son téléphone.",
    "Identifiant Pôle emploi {{7712345X|N}} toujours actif alors qu'il a retrouvé un travail.",
    "Matricule CAF {{3456789|N}} : trop-perçu de 850 euros.",
    "Le numéro fiscal {{3012345678912|N}} figure sur l'avis d'imposition.",

    # --- addresses, URLs, dates of birth -----------------------------------------------------------------
    "Elle habite {{12 rue des Lilas, 75019 Paris|A}} et n'a pas Internet.",
    "Il vit au {{3 bis avenue Jean Jaurès|A}} depuis 2010.",
    "Nouvelle adresse : {{45 bd Voltaire|A}}, la CAF n'a pas été prévenue.",
    "Le courrier est parti au {{7 chemin des Vignes|A}} alors qu'elle a déménagé.",
    "Mme {{Girard|P}} habite {{18 allée des Tilleuls, 44300 Nantes|A}}.",
    "Visite à domicile au {{2 impasse du Moulin|A}}, sans réseau mobile.",
    "Domiciliation au CCAS, mais elle dort chez sa sœur au {{27 rue Pasteur|A}}.",
    "Son adresse : {{14, rue du 8 Mai 1945|A}}, appartement 12.",
    "Il loge {{9 avenue de la Libération 13001 Marseille|A}} chez un cousin.",
    "Le jeune est hébergé au {{101 boulevard de Strasbourg|A}}, au foyer.",
    "Adresse déclarée : {{3 rue victor hugo|A}}, mais les courriers reviennent.",
    "Voici le lien qu'elle m'a envoyé : {{https://www.caf.fr/allocataires/mon-compte?dossier=2345678|U}}.",
    "Son profil {{https://www.facebook.com/fatou.diallo.12|U}} est public, je lui ai conseillé de le fermer.",
    "Le document est sur {{https://drive.google.com/file/d/1AbC2dEfGhIjK3lMnOpQ/view|U}}, accessible à tous.",
    "Elle a répondu à l'annonce {{www.leboncoin.fr/locations/2456789012.htm|U}} qui était une arnaque.",
    "Le lien de visio était {{https://meet.google.com/abc-defg-hij?authuser=1|U}}.",
    "Née le {{12/03/1985|D}}, madame ne s'est jamais servie d'un ordinateur.",
    "Il est né en {{1990|D}} et n'a jamais eu de carte Vitale.",
    "Date de naissance : {{3 mars 1978|D}}, nationalité malienne.",
    "Monsieur, né le {{1er avril 1959|D}}, demande sa retraite en ligne.",
    "Mme {{Sissoko|P}}, née à Bamako le {{05/06/1994|D}}, attend son récépissé.",
    "DDN {{12.09.2001|D}}, suivi ASE jusqu'à ses 21 ans.",
    "Né(e) le {{23/11/1970|D}}, à recontacter en juin.",
]

HELD_OUT: list[str] = []
# fmt: on


def parse(marked: str) -> dict[str, object]:
    """Remove the ``{{text|CODE}}`` marks of one sentence; return its text and checked spans."""
    text_parts: list[str] = []
    spans: list[list[object]] = []
    expected: list[str] = []
    position = 0
    length = 0
    for match in MARK.finditer(marked):
        before = marked[position : match.start()]
        text_parts.append(before)
        length += len(before)
        value, code = match.group(1), match.group(2)
        spans.append([length, length + len(value), CODES[code]])
        expected.append(value)
        text_parts.append(value)
        length += len(value)
        position = match.end()
    text_parts.append(marked[position:])
    text = "".join(text_parts)
    assert "{{" not in text and "}}" not in text, f"unbalanced mark in: {marked}"
    for (start, end, _), value in zip(spans, expected, strict=True):
        assert text[start:end] == value, (text, start, end, value)  # type: ignore[index]
    return {"text": text, "spans": spans}


def main() -> None:
    records = [parse(s) for s in (*DEVELOPMENT, *HELD_OUT)]
    texts = [r["text"] for r in records]
    duplicates = {t for t in texts if texts.count(t) > 1}
    assert not duplicates, f"duplicate sentences: {duplicates}"
    out = Path(__file__).with_name("pseudonymisation_gold.jsonl")
    with out.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    no_pii = sum(1 for r in records if not r["spans"])
    print(
        f"{out}: {len(records)} sentences ({len(DEVELOPMENT)} development, {len(HELD_OUT)} held out), "
        f"{no_pii} without personal data ({no_pii / len(records):.0%})"
    )


if __name__ == "__main__":
    main()
