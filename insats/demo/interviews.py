"""Demo material for study 1: synthetic Swedish employer interviews, metadata and a codebook.

Twenty (by default) semi-structured interviews with employers in Eskilstuna (kommunkod 0484) about what
they expect of new hires and how they view the municipality's labour-market interventions. Each
interview is assembled from phrase templates with a seeded RNG: the generator first decides which
codes each employer mentions (the *planted truth*), then writes sentences for exactly those codes, so
dictionary coding should recover the planted shares. Neutral filler sentences contain no keyword of
the codebook. Deliberate traps:

- interviewer questions mention körkort, språket, kontakt, jobbcoach (only respondent turns are coded);
- negated mentions by employers who do *not* demand the code ("Vi kräver inte körkort, ...",
  "Man behöver inte prata perfekt svenska, ...", "Vi har ingen kontakt med kommunen längre");
- a double negation that *is* a demand ("Det går inte utan svenska, ...");
- compounds and inflections (svenskkunskaper, körkortet, samarbetsförmåga, passar tiderna, kundbemötandet);
- one transcript with a fictitious personnummer (valid check digit), a phone number from the range
  reserved for fiction (070-174 06 xx), an e-mail address and a person's name, for redaction.

About half the transcripts are ``.docx`` (one paragraph per turn), half UTF-8 ``.txt`` (header lines,
some turns wrapped over several lines); speaker labels are ``I:``/``R:`` or ``Intervjuare:``/``Respondent:``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from insats.tasks.identity import luhn_check_digit

MUNICIPALITY = "0484"  # Eskilstuna
SIZE_CLASSES = ("1-9", "10-49", "50-249", "250+")
SECTORS = (
    "vård och omsorg",
    "handel",
    "bygg",
    "restaurang",
    "lager och logistik",
    "industri",
    "städ/fastighetsservice",
    "offentlig förvaltning",
)

CODEBOOK: dict[str, Any] = {
    "name": "Arbetsgivares förväntningar och syn på insatser",
    "version": "1.0",
    "codes": [
        {
            "id": "KOMP",
            "label": "Kompetenser och egenskaper",
            "label_en": "Competencies and qualities",
            "definition": "Vad arbetsgivaren förväntar sig eller kräver av en nyanställd.",
            "children": [
                {
                    "id": "KOMP.SVENSKA",
                    "label": "Svenska språket",
                    "label_en": "Swedish language skills",
                    "definition": ("Krav eller förväntningar på att kunna tala, förstå, läsa eller skriva svenska."),
                    "keywords": [
                        "svenska",
                        "svenskan",
                        "språk",
                        "språket",
                        "språkkunskaper",
                        "svenskkunskaper",
                        "prata svenska",
                        "förstå instruktioner",
                    ],
                },
                {
                    "id": "KOMP.PUNKTLIGHET",
                    "label": "Punktlighet och pålitlighet",
                    "label_en": "Punctuality and reliability",
                    "definition": ("Att komma i tid, passa tider, höra av sig vid frånvaro och vara att lita på."),
                    "keywords": [
                        "punktlig",
                        "punktlighet",
                        "pålitlig",
                        "passa tider",
                        "passa tiderna",
                        "komma i tid",
                        "hålla tider",
                    ],
                },
                {
                    "id": "KOMP.SAMARBETE",
                    "label": "Samarbetsförmåga",
                    "label_en": "Teamwork",
                    "definition": "Att kunna samarbeta, fungera i grupp och ha social kompetens.",
                    "keywords": [
                        "samarbete",
                        "samarbeta",
                        "samarbetsförmåga",
                        "lagarbete",
                        "fungera i grupp",
                        "jobba i team",
                        "social kompetens",
                    ],
                },
                {
                    "id": "KOMP.KORKORT",
                    "label": "Körkort",
                    "label_en": "Driving licence",
                    "definition": ("Krav på körkort (oftast B-körkort) eller på att kunna köra bil i tjänsten."),
                    "keywords": ["körkort", "B-körkort", "köra bil"],
                },
                {
                    "id": "KOMP.MOTIVATION",
                    "label": "Motivation och inställning",
                    "label_en": "Motivation and attitude",
                    "definition": "Arbetsvilja, engagemang, rätt inställning och vilja att lära.",
                    "keywords": [
                        "motivation",
                        "motiverad",
                        "engagemang",
                        "engagerad",
                        "arbetsvilja",
                        "inställning",
                        "attityd",
                        "vilja att lära",
                        "vill jobba",
                    ],
                },
                {
                    "id": "KOMP.YRKESKUNSKAP",
                    "label": "Yrkeskunskap och erfarenhet",
                    "label_en": "Vocational skills, experience and certificates",
                    "definition": "Yrkesutbildning, tidigare erfarenhet, certifikat och behörigheter.",
                    "keywords": [
                        "yrkeskunskap",
                        "erfarenhet",
                        "arbetslivserfarenhet",
                        "utbildning",
                        "yrkesutbildning",
                        "certifikat",
                        "truckkort",
                        "yrkesbevis",
                        "behörighet",
                    ],
                },
                {
                    "id": "KOMP.DIGITAL",
                    "label": "Digital kompetens",
                    "label_en": "Digital skills",
                    "definition": "Att kunna använda dator, surfplatta, appar och verksamhetens it-system.",
                    "keywords": [
                        "digital",
                        "digitala verktyg",
                        "dator",
                        "datorer",
                        "datorvana",
                        "surfplatta",
                        "it-system",
                    ],
                },
                {
                    "id": "KOMP.SERVICE",
                    "label": "Service och bemötande",
                    "label_en": "Customer service",
                    "definition": "Kundbemötande, servicekänsla och att ta hand om kunder eller gäster.",
                    "keywords": [
                        "service",
                        "kundservice",
                        "kundbemötande",
                        "bemötande",
                        "kund",
                        "kunder",
                        "kundkontakt",
                        "serviceinriktad",
                        "gäster",
                    ],
                },
            ],
        },
        {
            "id": "SYN",
            "label": "Syn på kommunens insatser",
            "label_en": "Views on municipal interventions",
            "definition": "Arbetsgivarens erfarenheter av och syn på kommunens arbetsmarknadsinsatser.",
            "children": [
                {
                    "id": "SYN.POSITIV",
                    "label": "Positiv syn",
                    "label_en": "Positive view",
                    "definition": ("Insatser, praktik eller samarbetet med kommunen beskrivs som bra eller lyckat."),
                    "keywords": [
                        "fungerat bra",
                        "fungerar bra",
                        "positiv",
                        "nöjd",
                        "nöjda",
                        "lyckat",
                        "värdefull",
                        "tacksam",
                    ],
                },
                {
                    "id": "SYN.NEGATIV",
                    "label": "Negativ syn",
                    "label_en": "Negative view",
                    "definition": (
                        "Insatserna beskrivs som krångliga, byråkratiska, dåligt matchade eller svåra att nå."
                    ),
                    "keywords": [
                        "krångligt",
                        "krånglig",
                        "byråkrati",
                        "besviken",
                        "missnöjd",
                        "dålig",
                        "dåligt",
                        "svårt att nå",
                    ],
                },
                {
                    "id": "SYN.HANDLEDNING",
                    "label": "Behov av handledning och stöd",
                    "label_en": "Need for supervision and support at the workplace",
                    "definition": "Behov av handledare, introduktion, mentor eller stöd på arbetsplatsen.",
                    "keywords": [
                        "handledare",
                        "handledning",
                        "handleda",
                        "introduktion",
                        "inskolning",
                        "mentor",
                        "stöd på arbetsplatsen",
                        "extra stöd",
                    ],
                },
                {
                    "id": "SYN.KONTAKT",
                    "label": "Kontakt med kommunen och jobbcoach",
                    "label_en": "Contact with the municipality and job coach",
                    "definition": ("Kontaktpersoner, handläggare, jobbcoacher (Supported Employment) och uppföljning."),
                    "keywords": [
                        "kontakt",
                        "kontaktperson",
                        "jobbcoach",
                        "handläggare",
                        "arbetsmarknadsenheten",
                        "supported employment",
                        "kontakt med kommunen",
                    ],
                },
            ],
        },
    ],
}

TOP_COMPETENCY = "KOMP.SVENSKA"
# Intended share of employers mentioning each code affirmatively; realised as round(share * n) employers.
TARGET_SHARES: dict[str, float] = {
    "KOMP.SVENSKA": 0.85,
    "KOMP.PUNKTLIGHET": 0.60,
    "KOMP.MOTIVATION": 0.55,
    "KOMP.SAMARBETE": 0.45,
    "KOMP.YRKESKUNSKAP": 0.40,
    "KOMP.SERVICE": 0.35,
    "KOMP.KORKORT": 0.30,
    "KOMP.DIGITAL": 0.20,
    "SYN.POSITIV": 0.60,
    "SYN.NEGATIV": 0.40,
    "SYN.HANDLEDNING": 0.50,
    "SYN.KONTAKT": 0.55,
}
# Sectors where a code is more likely (weight in the employer draw; default 1).
SECTOR_WEIGHTS: dict[str, dict[str, float]] = {
    "KOMP.KORKORT": {
        "bygg": 3,
        "lager och logistik": 3,
        "vård och omsorg": 2.5,
        "städ/fastighetsservice": 2.5,
        "handel": 0.5,
        "restaurang": 0.5,
        "industri": 0.5,
        "offentlig förvaltning": 0.5,
    },
    "KOMP.SERVICE": {
        "handel": 4,
        "restaurang": 4,
        "vård och omsorg": 2,
        "offentlig förvaltning": 2,
        "bygg": 0.5,
        "lager och logistik": 0.5,
        "industri": 0.5,
        "städ/fastighetsservice": 0.5,
    },
    "KOMP.DIGITAL": {"offentlig förvaltning": 4, "lager och logistik": 2, "handel": 2, "industri": 1.5},
    "KOMP.YRKESKUNSKAP": {"industri": 3, "bygg": 3, "vård och omsorg": 2.5},
}
SIZE_WEIGHTS: dict[str, tuple[float, float, float, float]] = {
    "vård och omsorg": (0.0, 0.3, 0.5, 0.2),
    "handel": (0.3, 0.5, 0.2, 0.0),
    "bygg": (0.4, 0.4, 0.2, 0.0),
    "restaurang": (0.6, 0.4, 0.0, 0.0),
    "lager och logistik": (0.0, 0.3, 0.5, 0.2),
    "industri": (0.0, 0.3, 0.4, 0.3),
    "städ/fastighetsservice": (0.3, 0.5, 0.2, 0.0),
    "offentlig förvaltning": (0.0, 0.0, 0.4, 0.6),
}
SIZE_RANGES: dict[str, tuple[int, int]] = {
    "1-9": (3, 9),
    "10-49": (10, 49),
    "50-249": (50, 249),
    "250+": (250, 1200),
}

# --- respondent sentences per code (affirmative) ---------------------------------------------------------
AFFIRMATIVE: dict[str, list[str]] = {
    "KOMP.SVENSKA": [
        "Svenskan är A och O, man måste kunna förstå instruktioner och läsa en arbetsorder.",
        "Det viktigaste är språket, att man kan prata svenska med arbetskamraterna.",
        "Vi kräver godkända svenskkunskaper, det handlar om säkerheten.",
        "Språkkunskaper är viktigt hos oss, man ska kunna skriva en rapport.",
        "Det går inte utan svenska, man måste kunna fråga om man är osäker.",
        "Man behöver kunna tillräckligt med svenska för att hänga med på mötena.",
        "Språket är nog det som avgör mest för oss.",
        "Svenska språket är viktigt, särskilt när det gäller säkerhetsregler.",
    ],
    "KOMP.PUNKTLIGHET": [
        "Man ska komma i tid, det är grundkravet.",
        "Punktlighet är viktigt, för är man sen så får någon annan täcka upp.",
        "Att man passar tiderna och hör av sig om man är sjuk.",
        "Vi måste kunna lita på folk, att de är pålitliga.",
        "Det är viktigt att vara punktlig, passen börjar tidigt på morgonen.",
        "Man måste kunna hålla tider, annars faller hela planeringen.",
    ],
    "KOMP.SAMARBETE": [
        "Samarbetsförmåga är jätteviktigt, vi jobbar tätt ihop hela dagarna.",
        "Man måste kunna samarbeta med alla sorters människor.",
        "Allt här är lagarbete, man klarar sig inte ensam.",
        "Vi letar efter folk som kan fungera i grupp.",
        "Att man kan jobba i team är viktigt för oss.",
        "Social kompetens väger tungt, man ska komma överens med arbetskamraterna.",
    ],
    "KOMP.KORKORT": [
        "Körkort är ett krav, vi åker ut till olika adresser varje dag.",
        "B-körkort är ett måste eftersom man åker mellan uppdragen.",
        "Vi vill att man har körkort, det blir många körningar.",
        "Körkortet är viktigt hos oss, man ska kunna köra bil själv.",
    ],
    "KOMP.MOTIVATION": [
        "Vi vill ha folk som är motiverade och vill lära sig.",
        "Rätt inställning väger tyngre än betygen.",
        "Engagemang är det viktigaste för oss.",
        "Man måste ha arbetsvilja och visa att man vill jobba.",
        "Attityden är allt, resten kan vi lära ut.",
        "Motivationen måste finnas där från början.",
    ],
    "KOMP.YRKESKUNSKAP": [
        "Det krävs {cert} för att jobba hos oss.",
        "Vi tittar mycket på tidigare erfarenhet, och gärna {cert}.",
        "Yrkeskunskapen kan vi lära ut, men {cert} måste man ha.",
        "Det är en fördel med {cert}, då kommer man in snabbare.",
    ],
    "KOMP.DIGITAL": [
        "Allt rapporteras i en app, så man måste klara det digitala.",
        "Lite datorvana behövs, schemat ligger på nätet.",
        "Man behöver kunna hantera datorer och surfplattor.",
        "Digitala verktyg blir viktigare och viktigare för oss.",
        "Man måste kunna logga in i våra it-system själv.",
    ],
    "KOMP.SERVICE": [
        "Kundbemötandet är viktigt, man är ju ansiktet utåt.",
        "Man måste vara serviceinriktad och kunna ta hand om kunderna.",
        "Ett gott bemötande är det viktigaste i det här jobbet.",
        "Service är halva jobbet här.",
        "Man möter kunder hela dagarna, så det gäller att vara trevlig.",
    ],
    "SYN.POSITIV": [
        "Det har fungerat bra med praktikanterna vi fått via kommunen.",
        "Vi är nöjda med det mesta, de har varit lyhörda.",
        "Jag är positiv till praktik, man lär känna någon innan man anställer.",
        "Två av våra praktikanter fick anställning, så det var lyckat.",
        "Insatserna är värdefulla för oss som har svårt att rekrytera.",
    ],
    "SYN.NEGATIV": [
        "Ibland har det varit krångligt med papper och avtal.",
        "Det blir mycket byråkrati, många blanketter innan någon kan börja.",
        "Vi blev lite besvikna när en praktikant bara slutade dyka upp.",
        "Det är svårt att nå någon på kommunen ibland.",
        "Matchningen har varit dålig, de som kommit har inte passat här.",
    ],
    "SYN.HANDLEDNING": [
        "Vi skulle behöva mer stöd på arbetsplatsen, våra handledare hinner knappt med.",
        "Handledningen tar tid, det måste kommunen förstå.",
        "Det krävs en ordentlig introduktion de första veckorna.",
        "Om vi får hjälp med handledning kan vi ta emot fler.",
        "En mentor på plats skulle göra stor skillnad.",
    ],
    "SYN.KONTAKT": [
        "Vi vill ha en kontaktperson på kommunen som vi kan ringa direkt.",
        "Jobbcoachen från Supported Employment har betytt mycket.",
        "Det är viktigt med tät kontakt med kommunen när det uppstår problem.",
        "Handläggaren hör av sig regelbundet, det uppskattar vi.",
        "Med en jobbcoach som följer upp blir det tryggare för alla.",
    ],
}
# Negated mentions, said only by employers who do not demand the code. The first körkort sentence is the
# canonical "vi kräver inte körkort" case and is always used at least once.
NEGATED: dict[str, list[str]] = {
    "KOMP.KORKORT": [
        "Vi kräver inte körkort, det behövs inte hos oss.",
        "Nej, man behöver inget körkort här, allt finns på plats.",
    ],
    "KOMP.SVENSKA": [
        "Man behöver inte prata perfekt svenska, det löser sig på vägen.",
        "Vi kräver inga svenskkunskaper i början, vi visar hellre hur man gör.",
    ],
    "SYN.KONTAKT": ["Vi har ingen kontakt med kommunen längre, den rann ut i sanden."],
}
CERTIFICATES: dict[str, str] = {
    "vård och omsorg": "undersköterskeutbildning",
    "handel": "erfarenhet från butik",
    "bygg": "yrkesbevis",
    "restaurang": "hygienutbildning",
    "lager och logistik": "truckkort",
    "industri": "certifikat för svetsning",
    "städ/fastighetsservice": "en städutbildning",
    "offentlig förvaltning": "en relevant utbildning",
}
# --- neutral sentences (no codebook keyword) ---------------------------------------------------------------
SECTOR_DESCRIPTIONS: dict[str, list[str]] = {
    "vård och omsorg": [
        "Vi är ett äldreboende med fyra avdelningar, och så har vi hemtjänst i två områden.",
        "Vi driver ett gruppboende och en daglig verksamhet.",
    ],
    "handel": [
        "Vi är en livsmedelsbutik i centrum med öppet alla dagar.",
        "Vi säljer kläder och skor, två butiker i stan.",
    ],
    "bygg": [
        "Vi är ett byggföretag som mest jobbar med renoveringar och tillbyggnader.",
        "Vi gör mark och betong, mycket åt kommunala beställare.",
    ],
    "restaurang": [
        "Vi har en lunchrestaurang och tar catering på helgerna.",
        "Vi är en pizzeria med utkörning på kvällarna.",
    ],
    "lager och logistik": [
        "Vi har ett lager ute i Kjula med plock och pack dygnet runt.",
        "Vi sköter distribution åt flera butikskedjor i Mälardalen.",
    ],
    "industri": [
        "Vi tillverkar detaljer till fordonsindustrin, mest svarvning och montering.",
        "Vi är en gjuteri- och bearbetningsfirma med skiftarbete.",
    ],
    "städ/fastighetsservice": [
        "Vi sköter städning och fastighetsskötsel åt bostadsbolag och kontor.",
        "Vi städar skolor och trapphus och har en del fönsterputs.",
    ],
    "offentlig förvaltning": [
        "Vi är en förvaltning i kommunen med administration, reception och vaktmästeri.",
        "Vi jobbar med bidrag till föreningar och drift av kommunens lokaler.",
    ],
}
NEUTRAL: dict[str, list[str]] = {
    "size": [
        "Vi är runt {n} anställda.",
        "Ungefär {n} stycken, plus några timanställda.",
        "Vi är {n} personer just nu.",
    ],
    "recruit": [
        "Mest via Arbetsförmedlingen och genom tips från personalen.",
        "Vi annonserar på nätet och tar ibland in folk via bemanningsföretag.",
        "Mycket går på rekommendationer, folk känner någon som söker.",
        "Vi har öppna ansökningar och ringer in när det behövs.",
    ],
    "expect": [
        "Att man gör sitt jobb, helt enkelt.",
        "Det är svårt att säga generellt, det beror på tjänsten.",
    ],
    "license": ["Det spelar inte så stor roll för oss.", "Det har aldrig varit en fråga här."],
    "language": [
        "Det viktiga är att man gör jobbet ordentligt, resten löser sig.",
        "Det är inte det vi tittar mest på, ärligt talat.",
    ],
    "praktik": [
        "Ja, vi har haft några praktikanter genom åren.",
        "Vi tar emot en eller två om året, oftast via kommunen.",
        "Ja, just nu har vi en på praktik tre dagar i veckan.",
        "Det har hänt, men inte så ofta.",
    ],
    "view": [
        "Vi har inte haft så många, så det är svårt att säga.",
        "Det är lite olika från gång till gång.",
    ],
    "needs": [
        "Egentligen mest att det finns folk som söker.",
        "Jag vet inte riktigt, vi klarar oss ganska bra som det är.",
    ],
    "contact": ["Det har varit lite upp och ner.", "Jag har inte så mycket att säga om det."],
    "coach": ["Nej, det har vi inte haft.", "Inte vad jag vet, men det låter intressant."],
    "closing": ["Nej, jag tror jag har sagt det mesta.", "Nej, det var nog allt."],
    "thanks": ["Tack själv, hoppas det blir bra.", "Tack, det var trevligt."],
    "agree": ["Ja, absolut.", "Ja, precis.", "Mm, det stämmer."],
}
QUESTIONS: dict[str, list[str]] = {
    "intro": [
        "Kan du börja med att berätta lite om verksamheten?",
        "Vill du börja med att beskriva er verksamhet?",
    ],
    "size": ["Hur många anställda har ni ungefär?", "Hur stor är arbetsplatsen?"],
    "recruit": ["Hur brukar ni gå till väga när ni rekryterar?", "Hur hittar ni nya medarbetare?"],
    "expect": ["Vad förväntar ni er av någon som börjar hos er?", "Vilka krav ställer ni på en nyanställd?"],
    "expand": ["Kan du utveckla det lite?", "Hur menar du då?"],
    "more": ["Finns det något mer som är viktigt när ni anställer?", "Är det något annat ni tittar på?"],
    "license": ["Hur viktigt är körkort för er?", "Krävs det körkort för att jobba hos er?"],
    "confirm": ["Så det är ett krav för er?", "Okej, så det är viktigt?"],
    "language": [
        "Hur ser ni på språket, hur bra svenska behöver man kunna?",
        "Vad gäller språket, vilka krav har ni där?",
    ],
    "praktik": [
        "Har ni tagit emot praktikanter via kommunen?",
        "Har ni haft någon på praktik genom kommunens arbetsmarknadsinsatser?",
    ],
    "view": [
        "Hur har ni upplevt kommunens arbetsmarknadsinsatser?",
        "Vad tycker du om de insatser kommunen erbjuder?",
    ],
    "needs": [
        "Vad skulle ni behöva för att kunna ta emot fler, till exempel handledare?",
        "Vilket stöd behöver ni som arbetsplats?",
    ],
    "contact": ["Hur fungerar kontakten med kommunen?", "Hur ser kontakten med kommunen ut i dag?"],
    "coach": [
        "Har ni haft kontakt med någon jobbcoach, till exempel inom Supported Employment?",
        "Känner du till Supported Employment och jobbcoacher?",
    ],
    "closing": ["Är det något mer du vill lägga till?", "Har du något annat du vill säga innan vi avslutar?"],
    "thanks": ["Tack så mycket för din tid!", "Stort tack för att du ställde upp!"],
}
# Fictitious personal data for the redaction test; 070-174 06 xx lies in the range reserved for fiction.
PII_NAME = "Anna Lindqvist"
PII_PHONE = "070-174 06 42"
PII_EMAIL = "anna.lindqvist@exempelkommun.se"
PII_SENTENCE = (
    "Vi hade en kille här förra året, han hade personnummer {pnr} om jag minns rätt. "
    "{name} på kommunen ordnade allt, ni kan ringa henne på {phone} eller mejla {email}."
)
SPEAKER_LABELS = {
    "short": {"interviewer": "I", "respondent": "R"},
    "long": {"interviewer": "Intervjuare", "respondent": "Respondent"},
}


@dataclass(frozen=True)
class Interview:
    """One synthetic interview. ``turns`` are ``(role, text)`` with role "interviewer"/"respondent"."""

    interview_id: str
    employer_id: str
    sector: str
    size_class: str
    n_employees: int
    interview_date: str
    file_format: str  # "txt" or "docx"
    speaker_style: str  # "short" (I:/R:) or "long" (Intervjuare:/Respondent:)
    wrap_lines: bool  # txt only: multi-sentence respondent turns wrapped over several lines
    turns: tuple[tuple[str, str], ...]

    @property
    def file(self) -> str:
        return f"{self.interview_id}.{self.file_format}"


@dataclass
class DemoInterviews:
    """Bundle returned by :func:`make_interviews`; unpacks as ``interviews, employers, codebook, truth``."""

    interviews: list[Interview]
    employers: pd.DataFrame
    codebook: dict[str, Any]
    truth: dict[str, Any] = field(default_factory=dict)
    # Added material (see :func:`make_human_coding`, :func:`make_focus_group`, :func:`make_survey`); empty
    # frames / None when not generated. Not part of the 4-tuple unpacking, for backward compatibility.
    human_coding: pd.DataFrame = field(default_factory=pd.DataFrame)
    focus_group: Interview | None = None
    survey: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.interviews, self.employers, self.codebook, self.truth))


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _sentences(rng: np.random.Generator, code: str, k: int, sector: str) -> list[str]:
    pool = AFFIRMATIVE[code]
    idx = rng.choice(len(pool), size=min(k, len(pool)), replace=False)
    return [pool[int(i)].format(cert=CERTIFICATES[sector]) for i in idx]


def _fictitious_personnummer(rng: np.random.Generator) -> str:
    nine = f"85061298{int(rng.integers(10))}"  # 19850612-98x + Luhn check digit
    return f"19{nine[:6]}-{nine[6:]}{luhn_check_digit(nine)}"


def _choose_employers(rng: np.random.Generator, sectors: list[str]) -> dict[str, set[int]]:
    n = len(sectors)
    chosen: dict[str, set[int]] = {}
    for code, share in TARGET_SHARES.items():
        k = min(n, int(round(share * n)))
        w = np.array([SECTOR_WEIGHTS.get(code, {}).get(s, 1.0) for s in sectors], dtype=float)
        chosen[code] = {int(i) for i in rng.choice(n, size=k, replace=False, p=w / w.sum())}
    return chosen


def _build_turns(
    rng: np.random.Generator,
    i: int,
    sector: str,
    n_employees: int,
    chosen: dict[str, set[int]],
    negated: dict[str, set[int]],
    pii: str | None,
) -> list[tuple[str, str]]:
    has = {code: i in members for code, members in chosen.items()}

    def q(key: str) -> tuple[str, str]:
        return ("interviewer", _pick(rng, QUESTIONS[key]))

    def r(parts: list[str]) -> tuple[str, str]:
        return ("respondent", " ".join(parts))

    def n_sent() -> int:
        return 2 if rng.random() < 0.3 else 1

    # Competencies other than language and licence are spread over the "expect", "more" and "closing" answers.
    komp = [c for c in TARGET_SHARES if c.startswith("KOMP.") and c not in ("KOMP.SVENSKA", "KOMP.KORKORT")]
    pieces = [s for c in komp if has[c] for s in _sentences(rng, c, n_sent(), sector)]
    order = rng.permutation(len(pieces))
    slots: dict[str, list[str]] = {"expect": [], "more": [], "closing": []}
    for j, idx in enumerate(order):
        slots[("expect", "more", "closing")[j % 3]].append(pieces[int(idx)])
    if has["KOMP.SVENSKA"] and rng.random() < 0.3:
        slots["expect"].insert(0, _sentences(rng, "KOMP.SVENSKA", 1, sector)[0])

    turns = [
        q("intro"),
        r([_pick(rng, SECTOR_DESCRIPTIONS[sector])]),
        q("size"),
        r([_pick(rng, NEUTRAL["size"]).format(n=n_employees)]),
        q("recruit"),
        r([_pick(rng, NEUTRAL["recruit"])]),
        q("expect"),
    ]
    expect = slots["expect"] or [_pick(rng, NEUTRAL["expect"])]
    if len(expect) > 2:  # long answers get a follow-up question, as in a real interview
        turns += [r(expect[:2]), q("expand"), r(expect[2:])]
    else:
        turns.append(r(expect))
    turns += [q("more"), r(slots["more"] or [_pick(rng, NEUTRAL["expect"])]), q("license")]
    if has["KOMP.KORKORT"]:
        turns += [
            r(_sentences(rng, "KOMP.KORKORT", 1, sector)),
            q("confirm"),
            r([_pick(rng, NEUTRAL["agree"])]),
        ]
    elif i in negated["KOMP.KORKORT"]:
        first = min(negated["KOMP.KORKORT"]) == i
        turns.append(r([NEGATED["KOMP.KORKORT"][0] if first else _pick(rng, NEGATED["KOMP.KORKORT"])]))
    else:
        turns.append(r([_pick(rng, NEUTRAL["license"])]))
    turns.append(q("language"))
    if has["KOMP.SVENSKA"]:
        turns.append(r(_sentences(rng, "KOMP.SVENSKA", 1, sector)))
    elif i in negated["KOMP.SVENSKA"]:
        turns.append(r([_pick(rng, NEGATED["KOMP.SVENSKA"])]))
    else:
        turns.append(r([_pick(rng, NEUTRAL["language"])]))
    praktik = [_pick(rng, NEUTRAL["praktik"])]
    if has["SYN.POSITIV"] and rng.random() < 0.3:
        praktik += _sentences(rng, "SYN.POSITIV", 1, sector)
    if pii is not None:
        praktik.append(pii)
    turns += [q("praktik"), r(praktik), q("view")]
    view = [s for c in ("SYN.POSITIV", "SYN.NEGATIV") if has[c] for s in _sentences(rng, c, 1, sector)]
    turns.append(r(view or [_pick(rng, NEUTRAL["view"])]))
    turns += [
        q("needs"),
        r(
            _sentences(rng, "SYN.HANDLEDNING", n_sent(), sector)
            if has["SYN.HANDLEDNING"]
            else [_pick(rng, NEUTRAL["needs"])]
        ),
    ]
    contact_slot = _pick(rng, ["contact", "coach", "both"]) if has["SYN.KONTAKT"] else ""
    for key in ("contact", "coach"):
        turns.append(q(key))
        if contact_slot in (key, "both"):
            turns.append(r(_sentences(rng, "SYN.KONTAKT", 1, sector)))
        elif key == "contact" and i in negated["SYN.KONTAKT"]:
            turns.append(r([NEGATED["SYN.KONTAKT"][0]]))
        else:
            turns.append(r([_pick(rng, NEUTRAL[key])]))
    turns += [
        q("closing"),
        r(slots["closing"] or [_pick(rng, NEUTRAL["closing"])]),
        q("thanks"),
        r([_pick(rng, NEUTRAL["thanks"])]),
    ]
    return turns


def _business_days(start: date, end: date) -> list[date]:
    days = [start + timedelta(d) for d in range((end - start).days + 1)]
    return [d for d in days if d.weekday() < 5]


def make_interviews(seed: int = 2026, n_employers: int = 20) -> DemoInterviews:
    """Generate ``n_employers`` interviews (one per employer), their metadata, the codebook and the truth.

    Returns a :class:`DemoInterviews` (unpackable as ``interviews, employers, codebook, truth``):

    - ``interviews``: list of :class:`Interview`, ids ``E01``..., 13-15 respondent turns each;
    - ``employers``: DataFrame with interview_id, employer_id (``AGxx``, shuffled against the interview
      ids), sector, size_class, municipality ("0484"), interview_date (YYYY-MM-DD, spring 2025), file;
    - ``codebook``: the codebook as a dict (see :data:`CODEBOOK`; ids fixed);
    - ``truth``: ``top_competency`` ("KOMP.SVENSKA"), ``planted_shares`` (code -> share of employers the
      generator made mention the code affirmatively), ``planted_employers`` (code -> employer ids),
      ``negated_employers`` (code -> employer ids that only mention it negated), ``pii`` (interview_id,
      personnummer, phone, email, name planted for redaction).

    Deterministic for a given ``seed``. Raises ValueError for fewer than 4 employers.
    """
    if n_employers < 4:
        raise ValueError(f"n_employers must be at least 4 to plant a clear top competency, got {n_employers}")
    rng = np.random.default_rng(seed)
    width = max(2, len(str(n_employers)))
    sectors = [SECTORS[int(k)] for k in rng.permutation(np.arange(n_employers) % len(SECTORS))]
    size_classes = [SIZE_CLASSES[int(rng.choice(4, p=np.array(SIZE_WEIGHTS[s])))] for s in sectors]
    n_employees = [int(rng.integers(SIZE_RANGES[c][0], SIZE_RANGES[c][1] + 1)) for c in size_classes]
    employer_ids = [f"AG{int(k) + 1:0{width}d}" for k in rng.permutation(n_employers)]
    days = _business_days(date(2025, 2, 3), date(2025, 5, 30))
    dates = sorted(days[int(k)] for k in rng.choice(len(days), size=n_employers, replace=n_employers > len(days)))
    formats = np.array(["txt"] * n_employers, dtype=object)
    formats[rng.permutation(n_employers)[: n_employers // 2]] = "docx"

    chosen = _choose_employers(rng, sectors)
    negated: dict[str, set[int]] = {}
    for code, fraction in (("KOMP.KORKORT", 0.25), ("KOMP.SVENSKA", 0.5), ("SYN.KONTAKT", 0.2)):
        others = sorted(set(range(n_employers)) - chosen[code])
        k = min(len(others), max(1, int(round(fraction * len(others)))))
        negated[code] = {int(x) for x in rng.choice(others, size=k, replace=False)} if others else set()

    pii_index = int(rng.integers(n_employers))
    pnr = _fictitious_personnummer(rng)
    interviews: list[Interview] = []
    for i in range(n_employers):
        pii = PII_SENTENCE.format(pnr=pnr, name=PII_NAME, phone=PII_PHONE, email=PII_EMAIL) if i == pii_index else None
        turns = _build_turns(rng, i, sectors[i], n_employees[i], chosen, negated, pii)
        interviews.append(
            Interview(
                interview_id=f"E{i + 1:0{width}d}",
                employer_id=employer_ids[i],
                sector=sectors[i],
                size_class=size_classes[i],
                n_employees=n_employees[i],
                interview_date=dates[i].isoformat(),
                file_format=str(formats[i]),
                speaker_style="long" if rng.random() < 0.3 else "short",
                wrap_lines=bool(rng.random() < 0.4),
                turns=tuple(turns),
            )
        )
    employers = pd.DataFrame(
        {
            "interview_id": [iv.interview_id for iv in interviews],
            "employer_id": [iv.employer_id for iv in interviews],
            "sector": [iv.sector for iv in interviews],
            "size_class": [iv.size_class for iv in interviews],
            "municipality": MUNICIPALITY,
            "interview_date": [iv.interview_date for iv in interviews],
            "file": [iv.file for iv in interviews],
        }
    )
    truth = {
        "seed": seed,
        "top_competency": TOP_COMPETENCY,
        "planted_shares": {c: len(m) / n_employers for c, m in chosen.items()},
        "planted_employers": {c: sorted(employer_ids[j] for j in m) for c, m in chosen.items()},
        "negated_employers": {c: sorted(employer_ids[j] for j in m) for c, m in negated.items()},
        "pii": {
            "interview_id": interviews[pii_index].interview_id,
            "personnummer": pnr,
            "phone": PII_PHONE,
            "email": PII_EMAIL,
            "name": PII_NAME,
        },
    }
    bundle = DemoInterviews(interviews=interviews, employers=employers, codebook=CODEBOOK, truth=truth)
    # Extra material from its own random streams, so the interviews above do not change with it.
    bundle.human_coding, truth["human_coding"] = make_human_coding(bundle, seed=seed)
    bundle.focus_group, truth["focus_group"] = make_focus_group(seed=seed)
    bundle.survey, truth["survey"] = make_survey(seed=seed)
    return bundle


_SENTENCE_BREAK = re.compile(r"(?<=[.!?]) (?=[A-ZÅÄÖ])")


def render_text(interview: Interview) -> str:
    """The ``.txt`` form of a transcript: three header lines, a blank line, then one turn per paragraph
    (``Label: text``, blank line between turns); with ``wrap_lines`` respondent turns put each sentence on
    its own line (continuation lines carry no speaker label)."""
    labels = SPEAKER_LABELS[interview.speaker_style]
    lines = [
        f"Intervju {interview.interview_id}",
        f"Bransch: {interview.sector}",
        f"Datum: {interview.interview_date}",
        "",
    ]
    for role, text in interview.turns:
        if interview.wrap_lines and role == "respondent":
            text = _SENTENCE_BREAK.sub("\n", text)
        lines += [f"{labels[role]}: {text}", ""]
    return "\n".join(lines)


def _write_docx(interview: Interview, path: Path) -> None:
    import docx  # python-docx

    labels = SPEAKER_LABELS[interview.speaker_style]
    document = docx.Document()
    props = document.core_properties
    props.author = "insats demo"
    props.title = f"Intervju {interview.interview_id}"
    props.created = props.modified = datetime(2025, 6, 1)
    document.add_paragraph(f"Intervju {interview.interview_id} – {interview.sector} – {interview.interview_date}")
    for role, text in interview.turns:
        document.add_paragraph(f"{labels[role]}: {text}")
    document.save(str(path))


def write_interviews(bundle: DemoInterviews, out_dir: Path) -> dict[str, Path]:
    """Write the demo material; return paths keyed "transcripts" (directory), "employers", "codebook", and,
    when the bundle has them, "human_coding" (CSV: document, start, end, code, coder), "focus_groups"
    (directory with ``FG01.txt``), "survey_csv" and "survey_xlsx" (same table, sheet "enkät").

    Layout: ``out_dir/transcripts/E01.txt|.docx ...``, ``out_dir/employers.csv`` (UTF-8, municipality
    kept as the string "0484"), ``out_dir/codebook.yaml`` (UTF-8, å ä ö written as is).
    """
    out_dir = Path(out_dir)
    transcripts = out_dir / "transcripts"
    transcripts.mkdir(parents=True, exist_ok=True)
    for interview in bundle.interviews:
        path = transcripts / interview.file
        if interview.file_format == "docx":
            _write_docx(interview, path)
        else:
            path.write_text(render_text(interview), encoding="utf-8")
    employers = out_dir / "employers.csv"
    bundle.employers.to_csv(employers, index=False, encoding="utf-8")
    codebook = out_dir / "codebook.yaml"
    # Keyword lists in flow style on one line each ([svenska, språket, ...]); width avoids wrapped phrases.
    text = yaml.safe_dump(bundle.codebook, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=None)
    codebook.write_text(text, encoding="utf-8")
    paths = {"transcripts": transcripts, "employers": employers, "codebook": codebook}
    if not bundle.human_coding.empty:
        paths["human_coding"] = out_dir / "human_coding.csv"
        bundle.human_coding.to_csv(paths["human_coding"], index=False, encoding="utf-8")
    if bundle.focus_group is not None:
        folder = out_dir / "focus_groups"
        folder.mkdir(exist_ok=True)
        (folder / f"{bundle.focus_group.interview_id}.txt").write_text(
            render_focus_group(bundle.focus_group), encoding="utf-8"
        )
        paths["focus_groups"] = folder
    if not bundle.survey.empty:
        paths["survey_csv"] = out_dir / "survey.csv"
        paths["survey_xlsx"] = out_dir / "survey.xlsx"
        bundle.survey.to_csv(paths["survey_csv"], index=False, encoding="utf-8")
        bundle.survey.to_excel(paths["survey_xlsx"], index=False, sheet_name="enkät")
    return paths


# --- human coding, focus group and open survey answers (issue 6) ------------------------------------------

HUMAN_CODERS: dict[str, dict[str, float]] = {
    # recall: chance a planted sentence is coded; confusion: chance a coded sentence gets a neighbouring code
    # instead; extra: chance a neutral respondent sentence is (wrongly) coded with a random code.
    "kodare_a": {"recall": 0.96, "confusion": 0.02, "extra": 0.01},
    "kodare_b": {"recall": 0.85, "confusion": 0.06, "extra": 0.03},
}
# Codes coders plausibly confuse with each other (symmetric).
CONFUSABLE: dict[str, str] = {
    "KOMP.SAMARBETE": "KOMP.SERVICE",
    "KOMP.SERVICE": "KOMP.SAMARBETE",
    "KOMP.MOTIVATION": "KOMP.PUNKTLIGHET",
    "KOMP.PUNKTLIGHET": "KOMP.MOTIVATION",
    "KOMP.YRKESKUNSKAP": "KOMP.DIGITAL",
    "KOMP.DIGITAL": "KOMP.YRKESKUNSKAP",
    "KOMP.SVENSKA": "KOMP.YRKESKUNSKAP",
    "KOMP.KORKORT": "KOMP.YRKESKUNSKAP",
    "SYN.POSITIV": "SYN.NEGATIV",
    "SYN.NEGATIV": "SYN.POSITIV",
    "SYN.HANDLEDNING": "SYN.KONTAKT",
    "SYN.KONTAKT": "SYN.HANDLEDNING",
}
HUMAN_CODING_COLUMNS = ["document", "start", "end", "code", "coder"]
PLANTED_COLUMNS = ["interview_id", "segment_id", "code_id", "negated", "start", "end"]


def document_text(interview: Interview) -> str:
    """Exactly the text ``transcripts.read_transcript`` returns for the file :func:`write_interviews` writes
    (for ``.docx``: the header paragraph and one paragraph per turn joined by ``\\n``). Offsets of the human
    coding and of :func:`planted_codes` refer to this text (before redaction)."""
    if interview.file_format == "txt":
        return render_text(interview)
    labels = SPEAKER_LABELS[interview.speaker_style]
    header = f"Intervju {interview.interview_id} – {interview.sector} – {interview.interview_date}"
    return "\n".join([header] + [f"{labels[role]}: {text}" for role, text in interview.turns])


def _sentence_codes(sector: str) -> dict[str, tuple[str, bool]]:
    """Template sentence -> (code, negated) for one sector (certificates filled in)."""
    out: dict[str, tuple[str, bool]] = {}
    for code, pool in AFFIRMATIVE.items():
        for sentence in pool:
            out[sentence.format(cert=CERTIFICATES[sector])] = (code, False)
    for code, pool in NEGATED.items():
        for sentence in pool:
            out[sentence] = (code, True)
    return out


def _split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences of one turn, split where the generator joined them."""
    spans, start = [], 0
    for m in _SENTENCE_BREAK.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def _turn_starts(interview: Interview, text: str, labels: dict[str, str] | None = None) -> list[int]:
    """Offset in ``text`` where each turn's text begins (after ``Label: ``)."""
    labels = labels or SPEAKER_LABELS[interview.speaker_style]
    cursor, starts = 0, []
    for role, turn in interview.turns:
        rendered = f"{labels.get(role, role)}: "
        pos = text.index(rendered, cursor) + len(rendered)
        if text[pos : pos + len(turn)].replace("\n", " ") != turn:
            raise AssertionError(f"{interview.interview_id}: turn text not found where expected")  # generator bug
        starts.append(pos)
        cursor = pos + len(turn)
    return starts


def planted_codes(interview: Interview) -> pd.DataFrame:
    """The generator's truth per sentence: one row per planted (sentence, code).

    Columns: interview_id, segment_id (``f"{interview_id}-{turn:03d}"`` as ``segment_turns`` numbers turns),
    code_id, negated (a "not required"/no-contact sentence), start, end (offsets of the sentence in
    :func:`document_text`). Respondent turns only; neutral sentences have no row.
    """
    text = document_text(interview)
    lookup = _sentence_codes(interview.sector)
    rows = []
    for n, ((role, turn), start) in enumerate(zip(interview.turns, _turn_starts(interview, text), strict=True), 1):
        if role != "respondent":
            continue
        for a, b in _split_sentences(turn):
            hit = lookup.get(turn[a:b])
            if hit is not None:
                rows.append((interview.interview_id, f"{interview.interview_id}-{n:03d}", hit[0], hit[1],
                             start + a, start + b))  # fmt: skip
    return pd.DataFrame(rows, columns=PLANTED_COLUMNS)


def _neutral_sentences(interview: Interview) -> list[tuple[int, int]]:
    text = document_text(interview)
    lookup = _sentence_codes(interview.sector)
    out = []
    for (role, turn), start in zip(interview.turns, _turn_starts(interview, text), strict=True):
        if role == "respondent":
            out += [(start + a, start + b) for a, b in _split_sentences(turn) if turn[a:b] not in lookup]
    return out


def make_human_coding(
    bundle: DemoInterviews, seed: int = 2026, n_interviews: int = 12
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Simulated manual coding of part of the transcripts by two coders (:data:`HUMAN_CODERS`).

    ``n_interviews`` interviews (seeded choice) are coded; each coder skips one of them that the other coded
    (missing data for reliability). A coder codes each planted sentence (negated ones too: the topic is
    coded, the stance is not) with probability ``recall``, swaps the code for a :data:`CONFUSABLE` one with
    probability ``confusion``, and codes a neutral sentence with probability ``extra``.

    Returns ``(spans, truth)``: spans with columns document (the transcript file name), start, end
    (character offsets into :func:`document_text`, end exclusive), code, coder; truth with the coded
    interview ids per coder and the coder parameters.
    """
    rng = np.random.default_rng([seed, 6, 1])
    n = min(n_interviews, len(bundle.interviews))
    chosen = sorted(int(i) for i in rng.choice(len(bundle.interviews), size=n, replace=False))
    skip = rng.choice(chosen, size=2, replace=False) if n >= 3 else []
    coded_by = {
        coder: [bundle.interviews[i].interview_id for i in chosen if n < 3 or i != int(skip[k])]
        for k, coder in enumerate(HUMAN_CODERS)
    }
    codes = list(TARGET_SHARES)
    rows = []
    for coder, params in HUMAN_CODERS.items():
        for iv in bundle.interviews:
            if iv.interview_id not in coded_by[coder]:
                continue
            for r in planted_codes(iv).itertuples():
                if rng.random() >= params["recall"]:
                    continue
                code = CONFUSABLE[r.code_id] if rng.random() < params["confusion"] else r.code_id
                rows.append((iv.file, r.start, r.end, code, coder))
            for a, b in _neutral_sentences(iv):
                if rng.random() < params["extra"]:
                    rows.append((iv.file, a, b, codes[int(rng.integers(len(codes)))], coder))
    spans = pd.DataFrame(rows, columns=HUMAN_CODING_COLUMNS).astype({"start": "int64", "end": "int64"})
    spans = spans.sort_values(["coder", "document", "start", "code"], kind="stable").reset_index(drop=True)
    return spans, {"coded_interviews": coded_by, "coders": HUMAN_CODERS}


# Focus group: one moderator (I) and four employers (R1..R4) from different sectors.
FOCUS_GROUP_ID = "FG01"
FOCUS_GROUP_SECTORS = ("handel", "bygg", "vård och omsorg", "restaurang")


def make_focus_group(seed: int = 2026) -> tuple[Interview, dict[str, Any]]:
    """A focus group transcript (``FG01``) with a moderator ``I`` and respondents ``R1``..``R4``.

    Each respondent answers the same four questions; what they say is drawn from the code templates, with a
    planted truth: ``codes_by_speaker`` (label -> sorted affirmative codes). In ``turns`` the role field holds
    the speaker label ("I", "R1".. "R4"); render with :func:`render_focus_group`.
    """
    rng = np.random.default_rng([seed, 6, 2])
    speakers = [f"R{k + 1}" for k in range(len(FOCUS_GROUP_SECTORS))]
    topics = [
        ("expect", ["KOMP.SVENSKA", "KOMP.PUNKTLIGHET", "KOMP.MOTIVATION", "KOMP.SAMARBETE"]),
        ("more", ["KOMP.SERVICE", "KOMP.YRKESKUNSKAP", "KOMP.DIGITAL", "KOMP.KORKORT"]),
        ("view", ["SYN.POSITIV", "SYN.NEGATIV"]),
        ("needs", ["SYN.HANDLEDNING", "SYN.KONTAKT"]),
    ]
    turns: list[tuple[str, str]] = [("I", "Välkomna allihop! Vi börjar med en kort presentationsrunda.")]
    for label, sector in zip(speakers, FOCUS_GROUP_SECTORS, strict=True):
        turns.append((label, _pick(rng, SECTOR_DESCRIPTIONS[sector])))
    truth: dict[str, set[str]] = {s: set() for s in speakers}
    for key, pool in topics:
        turns.append(("I", _pick(rng, QUESTIONS[key])))
        for label, sector in zip(speakers, FOCUS_GROUP_SECTORS, strict=True):
            picked = [c for c in pool if rng.random() < 0.45]
            if not picked:
                turns.append((label, _pick(rng, NEUTRAL["agree"] + NEUTRAL["closing"][:1])))
                continue
            sentences = [_sentences(rng, c, 1, sector)[0] for c in picked]
            truth[label].update(picked)
            turns.append((label, " ".join(sentences)))
    turns.append(("I", _pick(rng, QUESTIONS["thanks"])))
    fg = Interview(
        interview_id=FOCUS_GROUP_ID, employer_id="", sector="blandat", size_class="", n_employees=0,
        interview_date="2025-06-10", file_format="txt", speaker_style="focus", wrap_lines=False,
        turns=tuple(turns),
    )  # fmt: skip
    return fg, {
        "interview_id": FOCUS_GROUP_ID,
        "speakers": dict(zip(speakers, FOCUS_GROUP_SECTORS, strict=True)),
        "codes_by_speaker": {k: sorted(v) for k, v in truth.items()},
    }


def render_focus_group(fg: Interview) -> str:
    """``.txt`` form of a focus group: a header, then ``Label: text`` paragraphs (labels I, R1..R4)."""
    lines = [f"Fokusgrupp {fg.interview_id}", f"Datum: {fg.interview_date}", ""]
    for label, text in fg.turns:
        lines += [f"{label}: {text}", ""]
    return "\n".join(lines)


SURVEY_TEXT_COLUMNS = ("fritext_krav", "fritext_insatser")
SURVEY_LIKERT_COLUMNS = ("q_nojd_insatser", "q_ta_emot_fler", "q_kontakt_kommun")


def make_survey(seed: int = 2026, n_respondents: int = 60) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Open survey answers from employers: one row per respondent.

    Columns: respondent_id (``S001``...), sector, size_class, three Likert items (1-5, see
    :data:`SURVEY_LIKERT_COLUMNS`; ``q_nojd_insatser`` is higher for respondents planted with SYN.POSITIV and
    lower with SYN.NEGATIV), and two free-text columns (:data:`SURVEY_TEXT_COLUMNS`; "" when skipped, about
    10 %). Truth: ``codes`` (respondent_id -> {column: sorted codes}) and ``shares`` (code -> share of
    respondents with the code in any answer).
    """
    rng = np.random.default_rng([seed, 6, 3])
    komp = [c for c in TARGET_SHARES if c.startswith("KOMP.")]
    syn = [c for c in TARGET_SHARES if c.startswith("SYN.")]
    rows, codes = [], {}
    for k in range(n_respondents):
        rid = f"S{k + 1:03d}"
        sector = SECTORS[int(rng.integers(len(SECTORS)))]
        size = SIZE_CLASSES[int(rng.choice(4, p=np.array(SIZE_WEIGHTS[sector])))]
        answer_codes: dict[str, list[str]] = {}
        texts: dict[str, str] = {}
        for col, pool in zip(SURVEY_TEXT_COLUMNS, (komp, syn), strict=True):
            picked = [c for c in pool if rng.random() < TARGET_SHARES[c] * 0.7]
            if rng.random() < 0.1:
                picked, text = [], ""
            elif not picked:
                text = _pick(rng, NEUTRAL["expect"] if col == "fritext_krav" else NEUTRAL["view"])
            else:
                text = " ".join(_sentences(rng, c, 1, sector)[0] for c in picked)
            answer_codes[col], texts[col] = sorted(picked), text
        tone = ("SYN.POSITIV" in answer_codes["fritext_insatser"]) - ("SYN.NEGATIV" in answer_codes["fritext_insatser"])
        likert = [int(np.clip(3 + tone + rng.integers(-1, 2), 1, 5)) for _ in SURVEY_LIKERT_COLUMNS]
        likert[1:] = [int(rng.integers(1, 6)) for _ in SURVEY_LIKERT_COLUMNS[1:]]
        rows.append([rid, sector, size, *likert, *texts.values()])
        codes[rid] = answer_codes
    survey = pd.DataFrame(
        rows, columns=["respondent_id", "sector", "size_class", *SURVEY_LIKERT_COLUMNS, *SURVEY_TEXT_COLUMNS]
    )
    shares = {c: sum(any(c in v for v in codes[r].values()) for r in codes) / n_respondents for c in TARGET_SHARES}
    return survey, {"codes": codes, "shares": shares}
