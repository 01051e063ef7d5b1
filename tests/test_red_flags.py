"""The red-flag detector (bot/nlu/red_flags.py) with real spaCy and real Rasa components.

Messages go through Rasa's own ``SpacyNLP`` component, loaded with the project's spaCy
pipeline (``bot.nlu.pipeline.build()``), exactly as in the trained model; no model is trained.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import PROJECT_ROOT
from bot.nlu.pipeline import build
from bot.nlu.red_flags import (
    DEMOTE_KEY,
    EMERGENCY,
    KINDS,
    PATTERNS_FILE_KEY,
    PATTERNS_PATH,
    RED_FLAG,
    SELF_HARM,
    RedFlagDetector,
    read_number,
    read_temperature,
)
from tests.helpers import WITH_FIXTURES

DETECTOR_NAME = "bot.nlu.red_flags.RedFlagDetector"
PREDICTED = "treatment"

# (message, family in red_flags.yml). Every family has examples: see test_every_family_is_tested.
EMERGENCIES = [
    ("i can't breathe", "breathing"),
    ("i cant breath", "breathing"),
    ("I CANNOT BREATHE", "breathing"),
    ("she can’t breathe", "breathing"),
    ("my husband is unable to breathe", "breathing"),
    ("he's struggling to breathe", "breathing"),
    ("my dad is not breathing", "breathing"),
    ("she stopped breathing", "breathing"),
    ("i'm having trouble breathing", "breathing"),
    ("i can barely breathe", "breathing"),
    ("she's having a seizure right now", "seizure"),
    ("he is seizing", "seizure"),
    ("my mom is having a siezure", "seizure"),
    ("she's been having seizures all morning", "seizure"),
    ("my wife just had a seizure", "seizure"),
    ("he is convulsing", "seizure"),
    ("seizure right now help", "seizure"),
    ("i am coughing up blood", "coughing_blood"),
    ("i coughed blood this morning", "coughing_blood"),
    ("she is coughing blood", "coughing_blood"),
    ("he is throwing up blood", "coughing_blood"),
    ("i have severe chest pain", "chest_pain"),
    ("crushing chest pain", "chest_pain"),
    ("my chest pain is really bad", "chest_pain"),
    ("i think i'm having a heart attack", "heart_attack_or_stroke"),
    ("is she having a stroke?", "heart_attack_or_stroke"),
    ("sudden weakness in my arm", "sudden_weakness"),
    ("she is suddenly weak on one side", "sudden_weakness"),
    ("i can't move my left arm", "sudden_weakness"),
    ("he cant move his leg", "sudden_weakness"),
    ("i can't feel my legs", "sudden_weakness"),
    ("her face is drooping", "sudden_weakness"),
    ("face drooping and slurring her words", "sudden_weakness"),
    ("sudden confusion", "confusion"),
    ("my mom is suddenly very confused", "confusion"),
    ("he is confused and can't talk", "confusion"),
    ("she passed out", "fainting"),
    ("my dad fainted in the kitchen", "fainting"),
    ("i think i'm going to pass out", "fainting"),
    ("he's unconscious", "unresponsive"),
    ("she is not waking up", "unresponsive"),
    ("she won't wake up", "unresponsive"),
    ("my mom is unresponsive", "unresponsive"),
    ("i can't wake him", "unresponsive"),
    ("the wound won't stop bleeding", "bleeding"),
    ("my nose is bleeding heavily", "bleeding"),
    ("my wife is gasping", "breathing"),
    ("his lips are turning blue", "breathing"),
    ("her whole body is jerking", "seizure"),
    ("my chest hurts so bad", "chest_pain"),
    ("my right side went numb", "sudden_weakness"),
    ("i suddenly can't walk", "sudden_weakness"),
    ("my arm went weak all of a sudden", "sudden_weakness"),
    ("my dad is talking nonsense", "confusion"),
    ("she's not making sense", "confusion"),
    ("my husband doesn't recognize me", "confusion"),
    ("worst headache of my life", "sudden_headache"),
    ("sudden severe headache", "sudden_headache"),
    ("i keep blacking out", "fainting"),
    ("she is not responding", "unresponsive"),
    ("he won't respond", "unresponsive"),
    ("this is an emergency", "asking_for_emergency_help"),
    ("help!! emergency", "asking_for_emergency_help"),
    ("should i call 911", "asking_for_emergency_help"),
    ("we need an ambulance", "asking_for_emergency_help"),
]

SELF_HARM_MESSAGES = [
    ("i have been reading about ways to die", "want_to_die"),
    ("i burn my arm until it bleeds", "hurt_self"),
    ("i hit myself just to feel something", "hurt_self"),
    ("i punched the wall until my knuckles bled", "hurt_self"),
    ("i burned myself on purpose", "hurt_self"),
    ("my dad has been giving away all his tools", "giving_away_or_goodbye"),
    ("she wrote goodbye letters to us", "giving_away_or_goodbye"),
    ("i hope i never wake up", "want_to_die"),
    ("how much of the morphine would it take to not wake up", "want_to_die"),
    ("i want to kill myself", "kill_self"),
    ("i keep thinking about killing myself", "kill_self"),
    ("my husband said he would kill himself", "kill_self"),
    ("i want to end my life", "end_life"),
    ("i want to end it all", "end_life"),
    ("i might take my own life", "end_life"),
    ("i'm suicidal", "suicide"),
    ("i have been thinking about suicide", "suicide"),
    ("i feel sucidal", "suicide"),
    ("i want to die", "want_to_die"),
    ("i just wanna die", "want_to_die"),
    ("my mom says she wants to die", "want_to_die"),
    ("i wish i was dead", "want_to_die"),
    ("i don't want to live anymore", "not_want_to_live"),
    ("i dont want to be alive", "not_want_to_live"),
    ("she doesn't want to live", "not_want_to_live"),
    ("i can't go on living", "not_want_to_live"),
    ("there is no reason to live", "no_reason_to_live"),
    ("i have nothing to live for", "no_reason_to_live"),
    ("i want to hurt myself", "hurt_self"),
    ("thinking about harming myself", "hurt_self"),
    ("i'll hurt myself", "hurt_self"),
    ("is self-harm normal?", "hurt_self"),
    ("everyone would be better off without me", "better_off_without_me"),
    ("my family would be better off if i was gone", "better_off_without_me"),
    ("i am thinking about an overdose", "overdose"),
    ("i am thinking of overdosing on my pills", "overdose"),
    ("i could take all my sleeping pills at once", "overdose"),
    ("i have been saving up my pills", "overdose"),
    ("i'm going to end it", "end_life"),
    ("what is the point of living", "no_reason_to_live"),
    ("life is not worth living", "no_reason_to_live"),
    ("i give up on life", "no_reason_to_live"),
    ("i'm done with life", "no_reason_to_live"),
    ("i wish i could sleep and never wake up", "want_to_die"),
    ("i'd rather be dead", "want_to_die"),
    ("i want to disappear forever", "want_to_die"),
    ("i keep thinking about cutting again", "hurt_self"),
    ("i want to kms", "kill_self"),
    ("i want to jump off a bridge", "method"),
    # A question that names an overdose gets the crisis answer: the safe mistake.
    ("how many sleeping pills would be an overdose", "overdose"),
    ("can you overdose on melatonin", "overdose"),
]

# The warning signs of metastatic disease that send patients to the emergency room (issue 11),
# in patients' and caregivers' words, with typos, numbers and units. Written for these tests.
WARNING_SIGNS = [
    ("my back pain is worse this week and my legs feel weak", "spinal_cord_compression"),
    ("new pain in my lower back and now tingling down both legs", "spinal_cord_compression"),
    (
        "mum's back has been killing her and today she wet herself without noticing",
        "spinal_cord_compression",
    ),
    ("back ache for 3 days, now i cant control my bladder", "spinal_cord_compression"),
    ("my wife says her spine hurts and her legs keep giving way", "spinal_cord_compression"),
    ("he has bad back pain and numbness in his groin", "spinal_cord_compression"),
    ("backpain getting worse legs numb since this morning", "spinal_cord_compression"),
    (
        "my legs went weak and wobbly, i've had pain in my back for a week",
        "spinal_cord_compression",
    ),
    (
        "pain in the middle of my back, pins and needles in my feet and i had an accident"
        " with my bowels",
        "spinal_cord_compression",
    ),
    ("her back is really sore and she lost control of her bowels", "spinal_cord_compression"),
    ("my back has been agony for days and both legs are tingling", "spinal_cord_compression"),
    ("his spine has mets and he wet himself without noticing", "spinal_metastases_with_cord_signs"),
    ("my bak pain is worse and my legs feel heavy and numb", "spinal_cord_compression"),
    (
        "dad complains his back hurts and he can barely walk, his legs are so weak",
        "spinal_cord_compression",
    ),
    ("back pain plus weakness in my legs", "spinal_cord_compression"),
    ("i can't pee properly and my back pain is new", "spinal_cord_compression"),
    ("temp 38.4, chemo 8 days ago, shivering", "fever_during_chemo"),
    ("my temperature is 101.2F and i had chemo on monday", "fever_during_chemo"),
    ("fever 38,5 after my last chemo", "fever_during_chemo"),
    ("she's on chemo and her temp is 39 degrees", "fever_during_chemo"),
    ("i have a fever and i'm in the middle of chemotherapy", "fever_during_chemo"),
    ("my husband had his infusion tuesday and now he has shaking chills", "fever_during_chemo"),
    ("running a temp of 100.8 on day 10 of my cycle of kemo", "fever_during_chemo"),
    ("38.6c fever, on taxol", "fever_during_chemo"),
    ("chemo last week and temp of 38 this morning", "fever_during_chemo"),
    ("mum is on capecitabine and she's got rigors", "fever_during_chemo"),
    ("thermometer says 102 and i am on chemo", "fever_during_chemo"),
    ("temperature 38.1 °C, started new chemo drugs 5 days ago", "fever_during_chemo"),
    ("i feel feverish and my white count is low from chemo", "fever_during_chemo"),
    ("my wife is shivering uncontrollably after her chemotherapy", "fever_during_chemo"),
    ("fevr of 101 during chemo", "fever_during_chemo"),
    ("temp is 39.4 and i have the shakes", "fever_with_rigors"),
    ("she has a high fever of 39 and is shaking with chills", "fever_with_rigors"),
    ("i cant stop throwing up", "vomiting"),
    ("she has been vomiting all night and can't keep water down", "vomiting"),
    ("i can't keep any fluids down since yesterday", "vomiting"),
    ("my dad keeps vomiting, it won't stop", "vomiting"),
    ("throwing up nonstop since the infusion", "vomiting"),
    ("vomited 8 times today cant even keep water down", "vomiting"),
    ("the vomiting will not stop", "vomiting"),
    ("im not able to keep anything down not even water", "vomiting"),
    ("suddenly i am very short of breath", "breathing"),
    ("her breathing is getting worse and worse", "breathing"),
    ("my shortness of breath is much worse today", "breathing"),
    ("his lips look blue", "breathing"),
    ("mum's lips have gone blue", "breathing"),
    ("i get breathless just sitting still and it's getting worse fast", "breathing"),
    ("coughing up blood again this morning", "coughing_blood"),
    ("there's blood in my phlegm when i cough", "coughing_blood"),
    ("she coughed up some blood", "coughing_blood"),
    ("cofing up blod", "coughing_blood"),
    ("my wife is twitching and not answering me", "seizure"),
    ("her arm keeps twitching and jerking right now", "seizure"),
    ("he's fitting on the floor", "seizure"),
    ("i think my mum is having a seizure, her eyes rolled back", "seizure"),
    ("she is having a siezure now", "seizure"),
    ("my mom is suddenly confused and doesn't know where she is", "confusion"),
    ("dad doesnt know what day it is and he was fine yesterday", "confusion"),
    ("she became very confused this afternoon", "confusion"),
    ("her skin has gone yellow and she is really confused", "jaundice_with_confusion"),
    (
        "my husband's eyes look yellow and he is so sleepy i can hardly wake him",
        "jaundice_with_confusion",
    ),
    ("yellow eyes and drowsy all day", "jaundice_with_confusion"),
    ("she's jaundiced and very drowsy", "jaundice_with_confusion"),
    ("my mum fainted in the bathroom", "fainting"),
    ("i passed out this morning", "fainting"),
    ("he just collapsed", "fainting"),
    ("she lost consciousness for a minute", "fainting"),
    ("i keep feeling like i'm going to faint", "fainting"),
    ("I took 25 pills last night", "overdose_taken"),
    ("she swallowed the whole bottle", "overdose_taken"),
    ("my husband took all of his sleeping pills", "overdose_taken"),
    ("i think i took too many of my pain pills", "overdose_taken"),
    ("mum swallowed a handful of her tablets", "overdose_taken"),
    ("he drank bleach", "overdose_taken"),
    ("i took 12 tylenol an hour ago", "overdose_taken"),
    ("i took an overdose", "overdose_taken"),
    ("my daughter took a whole packet of paracetamol", "overdose_taken"),
    ("took twenty of my oxycodone", "overdose_taken"),
    (
        "my lower back has been hurting more and more and this morning i couldn't feel my"
        " feet properly",
        "spinal_cord_compression",
    ),
    ("Mom says her back is on fire and her legs are numb", "spinal_cord_compression"),
    ("severe back pain, i have wet the bed twice and i never do that", "spinal_cord_compression"),
    (
        "my husband has spine mets. pain is worse. now he's dragging his leg and says it "
        "feels weak",
        "spinal_cord_compression",
    ),
    ("Back pain for a week. Today tingling in both legs.", "spinal_cord_compression"),
    ("temperature of 38.2 and on chemo", "fever_during_chemo"),
    (
        "i had my chemo infusion on friday and tonight the thermometer said 100.5",
        "fever_during_chemo",
    ),
    ("my wife is on ibrance and has a temp of 38.3", "fever_during_chemo"),
    ("fever 39C chemo 10 days ago what do i do", "fever_during_chemo"),
    ("shaking uncontrollably and freezing cold, had chemo yesterday", "fever_during_chemo"),
    ("im on docetaxel and i think i have a fever", "fever_during_chemo"),
    ("temp of 101 and i feel awful, 2nd round of chemo was last week", "fever_during_chemo"),
    ("she hasnt been able to keep anything down for a day", "vomiting"),
    ("i threw up 10 times since last night", "vomiting"),
    ("cant stop being sick since chemo", "vomiting"),
    ("my breathing suddenly got much worse", "breathing"),
    ("i can hardly breathe and it came on suddenly", "breathing"),
    ("his lips are blue and hes gasping", "breathing"),
    ("i'm coughing up bright red blood", "coughing_blood"),
    ("she's having a fit right now", "seizure"),
    ("his hand started twitching and now his whole arm is jerking", "seizure"),
    ("my mum is suddenly very muddled and doesn't know who i am", "confusion"),
    ("he's talking gibberish since this morning", "confusion"),
    ("eyes gone yellow and he's very confused", "jaundice_with_confusion"),
    ("her skin is yellowish and she keeps falling asleep, very drowsy", "jaundice_with_confusion"),
    ("my dad passed out at the table", "fainting"),
    ("i fainted twice today", "fainting"),
    ("she took 30 of her sleeping tablets", "overdose_taken"),
    ("i swallowed all my morphine pills", "overdose_taken"),
    ("my son drank some bleach", "overdose_taken"),
    ("i'm on chemo and running a fever", "fever_during_chemo"),
    ("my temperature went up to 38.5 an hour ago, chemo on monday", "fever_during_chemo"),
    ("she has a temperature and had chemo last week", "fever_during_chemo"),
    ("temp spiked to 39 after my infusion", "fever_during_chemo"),
    ("burning up and shivery, day 7 after chemo", "fever_during_chemo"),
    ("my back is agony and i have trouble walking", "spinal_cord_compression"),
    ("my legs won't hold me and my back hurts", "spinal_cord_compression"),
    ("back pain and i keep leaking urine", "spinal_cord_compression"),
    ("throwing up everything i drink", "vomiting"),
    ("she can't hold anything down", "vomiting"),
    ("struggling for breath all of a sudden", "breathing"),
    ("i can't get enough air", "breathing"),
    ("hacking up blood", "coughing_blood"),
    ("she's very confused tonight", "confusion"),
    ("he's turned yellow and is so drowsy", "jaundice_with_confusion"),
    ("my wife keeled over in the kitchen", "fainting"),
    ("he took a bottle of pills", "overdose_taken"),
    ("she took the rest of her oxycodone", "overdose_taken"),
    ("i've taken 15 paracetamol", "overdose_taken"),
    ("my dad overdosed on his meds", "overdose_taken"),
    # Clinical words and non-native English.
    ("I think she has febrile neutropenia, temp 38.3 on day 9", "fever_during_chemo"),
    (
        "worried about cord compression, new back pain and my legs are weak",
        "spinal_cord_compression",
    ),
    ("haemoptysis this morning, quite a lot", "coughing_blood"),
    ("he had a syncope episode just now", "fainting"),
    ("altered mental status since this afternoon, she's not herself", "confusion"),
    ("my mother have fever 39 and she take chemo last week, what i do", "fever_during_chemo"),
    ("my husband back is very pain and he cannot walk good now", "spinal_cord_compression"),
    ("she vomit all the day and cannot drink water", "vomiting"),
    ("mom skin become yellow and she sleep all the time, very confuse", "jaundice_with_confusion"),
    ("he is shaking very much and not answer me, i think it is seizure", "seizure"),
    ("i take too much pill for sleep, now i feel strange", "overdose_taken"),
    ("breath is very hard for her, more worse today", "breathing"),
    (
        "hi, long story short my wife is on paclitaxel, she was fine at lunch, now she's "
        "38.9 and shivering under three blankets, should we wait until morning?",
        "fever_during_chemo",
    ),
    (
        "Quick question about diet. Also my dad has been confused since yesterday and "
        "keeps falling asleep mid sentence, his eyes look yellowish. And is sugar bad?",
        "jaundice_with_confusion",
    ),
    ("i cant feel my legs properly and my back has been agony for days", "sudden_weakness"),
    ("lost bladder control today and back is sore", "spinal_cord_compression"),
    ("Temperature 38.0 exactly, on Xeloda", "fever_during_chemo"),
    ("she is fitting and foaming at the mouth", "seizure"),
    ("my partner swallowed a packet of her antidepressants", "overdose_taken"),
    ("lips gone a bit blue and very breathless", "breathing"),
    ("i am so out of breath, it started all of a sudden an hour ago", "breathing"),
    ("my mother's had the runs and vomiting for 2 days, can't keep fluids down", "vomiting"),
    ("I'm on chemo, have a fever of 100.9 and feel like rubbish", "fever_during_chemo"),
    ("sudden onset confusion in my dad", "confusion"),
    ("my wife collapsed", "fainting"),
    ("dad's on chemo and his temp just hit 38.7", "fever_during_chemo"),
    ("I'm shivering like crazy and it's day 8 after my treatment", "fever_during_chemo"),
    ("mum can't stop being sick and hasn't kept anything down since last night", "vomiting"),
    (
        "my back has been really bad for a week and now my legs keep going wobbly",
        "spinal_cord_compression",
    ),
    ("help she's gone blue around the lips", "breathing"),
    ("he's coughing up blood clots", "coughing_blood"),
    ("she's twitching on one side of her face and won't answer", "seizure"),
    ("my wife suddenly doesnt know where she is", "confusion"),
    ("his eyes are yellow and he's really drowsy and not making sense", "jaundice_with_confusion"),
    ("my mum just passed out in the shower", "fainting"),
    ("i swallowed 40 of my pills", "overdose_taken"),
    ("my husband took an overdose of his morphine", "overdose_taken"),
    ("i've got a fever of 38.8 and my chemo was on thursday", "fever_during_chemo"),
    ("breathing is getting harder and harder since this morning", "breathing"),
    ("my back hurts so much and i peed myself", "spinal_cord_compression"),
    ("temp 101.6 F, on abemaciclib", "fever_during_chemo"),
    ("she is having fits one after another", "seizure"),
    ("cant keep down even sips of water, been vomiting for hours", "vomiting"),
    ("my sister fainted and hit her head", "fainting"),
    ("my partner is suddenly very short of breath and wheezing", "breathing"),
]

# Second round (issue 11): categories still missed on messages nobody on the team wrote,
# in new messages written for these tests.
MORE_WARNING_SIGNS = [
    # Fever with the treatment named by its drug or regimen, just over 38 C / 100.4 F.
    ("temp 38.1 C, had docetaxel on friday", "fever_during_chemo"),
    ("i'm on paclitaxel weekly and my temperature is 100.5", "fever_during_chemo"),
    ("mum had her nab-paclitaxel yesterday and now she has a fever", "fever_during_chemo"),
    ("carboplatin 9 days ago, thermometer reads 38.3", "fever_during_chemo"),
    ("on capecitabine tablets, feel hot, temp 38.2", "fever_during_chemo"),
    ("had my AC last week and i'm running 38.6", "fever_during_chemo"),
    ("my wife is on EC cycle 2, temp of 101", "fever_during_chemo"),
    ("TC chemo round 3, fever 38.4 since this afternoon", "fever_during_chemo"),
    ("she had eribulin on day 1 and day 8, now temp 38.9", "fever_during_chemo"),
    ("gemcitabine yesterday, now shivering with a temp of 38.5", "fever_during_chemo"),
    ("vinorelbine last tuesday and tonight 38.2 degrees", "fever_during_chemo"),
    ("my husband gets sacituzumab and he has a temperature of 100.6", "fever_during_chemo"),
    ("started T-DXd two weeks ago, fever 38.3 this evening", "fever_during_chemo"),
    ("on enhertu, temp is 38.1", "fever_during_chemo"),
    ("my infusion was last week and now my temp is 38.4", "fever_during_chemo"),
    ("i'm on treatment for mets and my temperature just hit 38.2", "fever_during_chemo"),
    ("doxorubicin and cyclophosphamide 10 days ago, now 38.7 and shaky", "fever_during_chemo"),
    ("epirubicin on monday, i feel awful and my temp is 100.8F", "fever_during_chemo"),
    ("i am having trodelvy, my temp 38,3 what i do", "fever_during_chemo"),
    ("had my docetaxol on wed, now hot and shivery, 38.2", "fever_during_chemo"),
    ("mum is on xeloda and her temp went up to 100.5 f", "fever_during_chemo"),
    (
        "Sorry to bother. My dad started a new regimen (carboplatin + gemcitabine) on the "
        "3rd. Tonight he is 38.1. Should we wait?",
        "fever_during_chemo",
    ),
    ("kadcyla infusion thursday, today temperature 38.6", "fever_during_chemo"),
    ("my mother on taxotere, she have fever 38.5 and cold", "fever_during_chemo"),
    ("i'm having weekly paclitaxel and tonight the thermometer said 38.1", "fever_during_chemo"),
    # Fighting for air, gasping, blue or grey fingertips, nails or face.
    ("my husband is fighting for air", "breathing"),
    ("she's gasping for breath and can't talk", "breathing"),
    ("i can't get air in", "breathing"),
    ("he cant get any air into his lungs", "breathing"),
    ("wheezing and struggling, i feel like i'm suffocating", "breathing"),
    ("her fingertips are going blue", "breathing"),
    ("his nails have gone grey and he's breathless", "breathing"),
    ("my mums face is turning grey and she can barely talk", "breathing"),
    ("fingers and lips look bluish", "breathing"),
    ("i'm gasping", "breathing"),
    ("she keeps gasping and her chest is heaving", "breathing"),
    ("my dad is wheezing badly and struggling", "breathing"),
    ("feel like i am drowning, cannot get breath", "breathing"),
    ("im suffocating", "breathing"),
    ("i cannot get enough breath in, it is very scary", "breathing"),
    ("her lips and fingernails are blue", "breathing"),
    ("he is struggling for air since 10 minutes", "breathing"),
    ("my wife is panting and can't catch her breath at rest", "breathing"),
    ("air hunger, getting worse", "breathing"),
    ("my mum is breathing really fast and shallow and going grey", "breathing"),
    # Heavy pressure, tightness or squeezing on the chest, lasting minutes now.
    ("heavy pressure on my chest for the last 20 minutes", "chest_pain"),
    ("my chest feels tight and squeezed and it won't go away", "chest_pain"),
    ("tightness in my chest for 15 minutes now", "chest_pain"),
    ("it feels like an elephant sitting on my chest", "chest_pain"),
    ("squeezing pain in the middle of my chest going down my arm", "chest_pain"),
    ("crushing feeling in my chest right now", "chest_pain"),
    ("my chest is really tight and heavy, it started half an hour ago", "chest_pain"),
    ("heavy chest pressure, sweating, feel sick", "chest_pain"),
    ("like a band squeezing around my chest for 10 min", "chest_pain"),
    ("pressure in my chest that wont stop", "chest_pain"),
    ("my husband has chest tightness since 20 mins and he is grey and sweaty", "chest_pain"),
    ("chest pain that spreads to my jaw and left arm", "chest_pain"),
    ("she says her chest is being squeezed", "chest_pain"),
    ("a heavy weight on my chest for the past hour", "chest_pain"),
    ("pain in chest very strong since 30 minutes", "chest_pain"),
    # Bleeding that will not stop, or with low platelets.
    ("my nose has been bleeding for 40 minutes and it won't stop", "bleeding"),
    ("nosebleed for half an hour, my platelets are low from chemo", "bleeding"),
    ("i cut my finger an hour ago and it is still bleeding", "bleeding"),
    ("the cut on his leg keeps bleeding, it's been 30 minutes", "bleeding"),
    ("she has a nosebleed that won't stop", "bleeding"),
    ("bleeding from my gums wont stop and my platelets are low", "bleeding"),
    ("my nose keeps bleeding and bleeding, 45 mins now", "bleeding"),
    ("nose bleed not stopping after 30 min of pressure", "bleeding"),
    ("still bleeding after an hour", "bleeding"),
    ("can't stop the bleeding from where my port was", "bleeding"),
    ("blood keeps pouring out of her nose", "bleeding"),
    ("the bleeding will not stop and my platelet count is very low", "bleeding"),
    ("his nose is bleeding nonstop", "bleeding"),
    ("my mum is bleeding heavy from her nose since one hour, she is on chemo", "bleeding"),
    ("he's losing a lot of blood", "bleeding"),
    # A squeezed spinal cord without the word "weakness".
    (
        "i can't feel it when i wipe and i have cancer in my spine",
        "spinal_metastases_with_cord_signs",
    ),
    ("numb between my legs and my back hurts", "spinal_cord_compression"),
    (
        "numbness around my bottom since this morning, i have bone mets",
        "spinal_metastases_with_cord_signs",
    ),
    (
        "tingling from the waist down, the cancer is in my spine",
        "spinal_metastases_with_cord_signs",
    ),
    ("i wet myself today and didn't even feel it, i have spine mets", "spinal_cord_compression"),
    ("i can't feel my bladder anymore and my legs are going numb", "cord_compression_signs"),
    (
        "had a bowel accident and i didn't feel it coming, mets in my vertebrae",
        "spinal_metastases_with_cord_signs",
    ),
    ("can't pass urine since last night and my legs are numb", "cord_compression_signs"),
    ("my legs are going numb and i have mets in my bones", "spinal_metastases_with_cord_signs"),
    (
        "her MRI last month showed paraparesis risk, now she can't feel her legs properly",
        "sudden_weakness",
    ),
    ("i think i have urinary retention and my spine mets hurt", "spinal_cord_compression"),
    (
        "mum has cancer in her spine and she keeps wetting herself",
        "spinal_metastases_with_cord_signs",
    ),
    ("numb bum and can't feel when i need to pee", "cord_compression_signs"),
    (
        "bone mets in my back, now pins and needles in both legs",
        "spinal_metastases_with_cord_signs",
    ),
    ("tingling in my legs and i cannot feel when i wee", "cord_compression_signs"),
    ("i have paraparesis now, bone mets", "spinal_metastases_with_cord_signs"),
    (
        "my husband has cancer in his bones, he says his legs feel like jelly",
        "spinal_metastases_with_cord_signs",
    ),
    (
        "I have mets in my lumbar spine. Since yesterday the inside of my thighs feel numb.",
        "spinal_metastases_with_cord_signs",
    ),
    ("no back pain but numb between my legs and i peed myself", "spinal_cord_compression"),
    # Sick every hour, even sips of water coming back up.
    ("i'm being sick every hour", "vomiting"),
    ("even sips of water come back up", "vomiting"),
    ("i can't keep anything down", "vomiting"),
    ("she cant keep anything down since yesterday", "vomiting"),
    ("vomiting every half hour since the chemo", "vomiting"),
    ("every time i drink something i throw it up", "vomiting"),
    ("he's sick every 20 minutes and can't keep water in", "vomiting"),
    ("i throw up even water", "vomiting"),
    ("mum is vomiting hourly and is very weak", "vomiting"),
    ("anything i eat or drink comes straight back up", "vomiting"),
    (
        "i have been vomiting since 6 this morning and can't even keep sips of water down",
        "vomiting",
    ),
    ("everything comes back up, even water", "vomiting"),
    ("sick all day, nothing stays down", "vomiting"),
    ("vomit every hour from last night, even water out", "vomiting"),
    ("i keep throwing up, i've been sick like 12 times", "vomiting"),
    # Double doses, and a child or pet that swallowed someone's tablets.
    ("i accidentally took double my dose of oxycodone", "overdose_taken"),
    ("i took triple the dose of my morphine by mistake", "overdose_taken"),
    ("i think i took too many of my sleeping tablets", "overdose_taken"),
    ("my son swallowed some of my capecitabine tablets", "overdose_taken"),
    ("the dog ate my chemo pills", "overdose_taken"),
    ("my toddler got into my pills and swallowed some", "overdose_taken"),
    ("my daughter ate some of grandma's tablets", "overdose_taken"),
    ("she took 2 doses of her fentanyl patch by mistake", "overdose_taken"),
    ("i took double my dose of morphine an hour ago", "overdose_taken"),
    ("my 3 year old swallowed one of my morphine tablets", "overdose_taken"),
    ("the cat chewed my pills", "overdose_taken"),
    ("i took a double dose of my xeloda", "overdose_taken"),
    ("took four times my usual amount of oxycontin", "overdose_taken"),
    ("my husband took his pain meds twice by accident and now he's very sleepy", "overdose_taken"),
    ("i accidentally took 3 times my dose", "overdose_taken"),
    ("kid ate my meds", "overdose_taken"),
    # A seizure described, not named.
    ("she is shaking all over and not responding", "seizure"),
    ("his arms and legs are jerking and he won't answer me", "seizure"),
    ("her eyes rolled back and she went stiff", "seizure"),
    ("he's stiff and unresponsive", "seizure"),
    ("my mom is shaking and not answering", "seizure"),
    ("she went rigid and started jerking", "seizure"),
    ("his eyes are rolling back and he is twitching", "seizure"),
    ("my husband is jerking and his eyes rolled up", "seizure"),
    ("mum suddenly went stiff, eyes rolled, and now she won't wake properly", "seizure"),
    ("he is shaking uncontrollably and not answering when i call his name", "seizure"),
    ("she's jerking her arms and not responding to me", "seizure"),
    ("my wife is stiff and shaking and foaming", "seizure"),
    ("his body is jerking and he is not with us", "seizure"),
    ("she is shaking and doesn't respond", "seizure"),
    ("my dad is twitching all over and won't respond", "seizure"),
    ("my gums are bleeding and my platelets are really low", "bleeding_with_low_platelets"),
    ("low platelets after chemo and now a nosebleed", "bleeding_with_low_platelets"),
    # Written after tuning for a blind check, added once measured.
    (
        "my sister is on weekly taxol and she's burning hot, 38.4 on the ear thermometer",
        "fever_during_chemo",
    ),
    (
        "Had cycle 4 of docetaxel + cyclophosphamide on Tuesday. Woke up at 100.6F.",
        "fever_during_chemo",
    ),
    (
        "dad gets gemcitabine every other week. temp 38.2 tonight and he feels rough",
        "fever_during_chemo",
    ),
    (
        "i take xeloda 2 weeks on 1 week off, today my temperature went to 38.3",
        "fever_during_chemo",
    ),
    ("eribulin day 8 was friday. now fever and chills", "fever_during_chemo"),
    ("Wife had her Enhertu drip 6 days ago, now she's at 38.5", "fever_during_chemo"),
    ("post AC chemo day 10, temp 38.1, is this an emergency", "fever_during_chemo"),
    ("im on vinorelbine, hot and cold, 100.5", "fever_during_chemo"),
    ("my mom is sitting up gasping and can't speak in full sentences", "breathing"),
    ("he is wheezing and really struggling to get a breath", "breathing"),
    ("i feel like i can't get any air in, my chest is so tight", "breathing"),
    ("her fingernails look blue and she's breathless", "breathing"),
    ("grandad's face has gone a grey colour and he's fighting to breathe", "breathing"),
    ("help, my husband is fighting for breath", "breathing"),
    ("i'm suffocating, can't breathe properly", "breathing"),
    ("my wife's lips and fingertips are turning purple", "breathing"),
    ("there's a heavy pressure in the centre of my chest for about 20 mins", "chest_pain"),
    ("feels like someone is squeezing my chest really hard", "chest_pain"),
    ("chest tightness for the last half hour and my left arm feels heavy", "chest_pain"),
    ("my dad says his chest feels crushed and he's sweating", "chest_pain"),
    ("tight band across my chest that hasn't gone away for 30 minutes", "chest_pain"),
    ("it's like a heavy weight pressing on my chest and it won't ease", "chest_pain"),
    ("pressure on my chest since 15 minutes and pain going into my jaw", "chest_pain"),
    ("my mum has a squeezing feeling in her chest and feels sick", "chest_pain"),
    ("my nose won't stop bleeding, it's been 35 minutes", "bleeding"),
    ("cut my hand cooking over an hour ago and it's still bleeding through the towel", "bleeding"),
    (
        "she's been bleeding from the nose for ages, platelets were low at her last bloods",
        "bleeding_with_low_platelets",
    ),
    ("my gums keep bleeding and i'm on chemo with low platelets", "bleeding"),
    ("the bleeding from his port site hasn't stopped for 40 min", "bleeding"),
    ("nosebleed going on 45 minutes, soaked loads of tissues", "bleeding"),
    ("i can't get this nosebleed to stop, it's been half an hour", "bleeding"),
    ("blood is gushing from a cut on my leg", "bleeding"),
    ("i have mets in my spine and today my bottom feels numb", "spinal_metastases_with_cord_signs"),
    (
        "my lower legs are going numb and I've got cancer in the vertebrae",
        "spinal_metastases_with_cord_signs",
    ),
    (
        "since this morning i've got no feeling when i wipe and i keep leaking wee",
        "cord_compression_signs",
    ),
    (
        "mum's cancer has spread to her bones and she can't pee since yesterday",
        "spinal_metastases_with_cord_signs",
    ),
    ("tingling from my waist down and I wet myself", "cord_compression_signs"),
    (
        "my oncologist said I have spinal mets. my legs feel numb and heavy tonight",
        "spinal_cord_compression",
    ),
    (
        "he has bone metastases and now he can't control his bladder",
        "spinal_metastases_with_cord_signs",
    ),
    ("numb groin and i can't tell when i need the toilet", "cord_compression_signs"),
    ("i've been sick every hour since midnight", "vomiting"),
    ("she's throwing up even tiny sips of water", "vomiting"),
    ("can't keep a thing down, been vomiting all day after chemo", "vomiting"),
    ("every drink i take comes back up", "vomiting"),
    ("mum has vomited about 15 times today", "vomiting"),
    ("vomiting every 30 minutes and can't keep fluids down", "vomiting"),
    ("nothing stays down, not even water", "vomiting"),
    ("he's been puking every hour and can't even keep his meds down", "vomiting"),
    ("i think i took a double dose of my oxycodone by accident", "overdose_taken"),
    ("my 2 year old ate some of my tablets", "overdose_taken"),
    ("our dog swallowed a few of my capecitabine pills", "overdose_taken"),
    ("grandma accidentally took her morphine twice", "overdose_taken"),
    ("i accidentally took triple my dose of gabapentin", "overdose_taken"),
    ("my toddler chewed on one of my fentanyl patches", "overdose_taken"),
    ("i took 3 times the amount of tramadol i should", "overdose_taken"),
    ("my son found my sleeping pills and swallowed some", "overdose_taken"),
    ("my dad is jerking on the floor and not responding", "seizure"),
    ("her eyes rolled back and her arms started shaking", "seizure"),
    ("she's gone stiff and isn't answering me", "seizure"),
    ("he's shaking all over and won't respond to his name", "seizure"),
    ("my wife is twitching and her eyes are rolled up", "seizure"),
    ("mum is stiff, shaking and not responding", "seizure"),
    ("his whole body went rigid then started jerking", "seizure"),
    ("she's convulsing and foaming at the mouth", "seizure"),
]

# Long messages: the warning sign anywhere among other sentences.
LONG_MESSAGES = [
    (
        "My temp is 38.7 and I had chemo 6 days ago. I know you're a bot. What does "
        "metastatic mean anyway?",
        "fever_during_chemo",
    ),
    (
        "I have a question about my mum. She was diagnosed with stage 4 last spring and "
        "has been on chemo since. Tonight her temperature is 38.9 and she is shivering. "
        "Her oncologist is away. What is metastatic breast cancer exactly?",
        "fever_during_chemo",
    ),
    (
        "Sorry for the long message. My wife has bone mets. Her back pain has been much "
        "worse this week. I read a lot about treatment options. Today her legs felt numb "
        "and she nearly fell.",
        "spinal_metastases_with_cord_signs",
    ),
    (
        "hi so my mom has mets in her liver and the doctors said the treatment is working"
        " but tonight her eyes look yellow and she is really confused and i dont know "
        "what to do",
        "jaundice_with_confusion",
    ),
    (
        "ok so i started a new chemo and i have been reading your info which is great "
        "thanks and now i cant stop vomiting and i feel awful and i wanted to know if "
        "surgery is an option",
        "vomiting",
    ),
    (
        "We were just having dinner. He suddenly collapsed. He is awake now but pale. Is "
        "this the cancer?",
        "fainting",
    ),
    (
        "my sister has stage 4 its in her lungs she has been ok but since an hour ago she"
        " is suddenly really short of breath and her lips are going blue what should we "
        "do",
        "breathing",
    ),
    (
        "My husband finished his third cycle. He has had some nausea, which the nurses "
        "said was normal. This morning I found an empty bottle, he took all his sleeping "
        "pills. He is very sleepy.",
        "overdose_taken",
    ),
]

# Questions and statements that mention a red-flag word but are not a red flag.
NOT_RED_FLAGS = [
    "my back has been sore since gardening, no numbness or weakness",
    "my spine has cancer in it, what symptoms should i watch for",
    "can i give away my old wigs",
    "the nausea wont stop for good?",
    "radiation burned my skin",
    "how do i say goodbye to my hair",
    "how to end the pain of treatment",
    "i want to feel something good again",
    "what symptoms are there, like chest pain?",
    "is chest pain a symptom of lung mets",
    "i have a cough and chest pain",
    "can it cause seizures?",
    "do seizures mean it spread to the brain?",
    "can brain mets cause seizures or confusion",
    "what does it mean if i have headaches",
    "i'm not suicidal, just sad",
    "im not suicidal just really scared",
    "i don't want to die",
    "i dont want to die and leave my kids",
    "i want to die at home, not in a hospital",
    "i'm so scared of dying",
    "this pain is killing me",
    "i can't wake up in the morning, i'm so tired",
    "i can't feel my feet since chemo",
    "my cancer is not responding to treatment",
    "i fell and hurt myself, is my hip broken?",
    "is this going to pass",
    "should we end her life support",
    "what is metastatic breast cancer?",
    "can it spread to the liver",
    "she isn't responding well to the chemo",
    "i'd rather die at home than in the hospital",
    "my feet went numb during chemo",
    "i cut myself shaving",
    "i walk 3 kms a day",
    "at this point in life i just want answers",
    "how do we end things with the trial",
    "call the nurse line",
    "is it an emergency if my bones hurt",
    "how long does it take to die from this",
]

LONG_PREFIX = (
    "i was reading about metastatic breast cancer and systemic therapy and why treatments "
    "can stop working, and my oncologist said we may switch drugs next month, but "
)
LONG_SUFFIX = (
    ", and i also wanted to ask how the treatment works and whether surgery or radiation "
    "would help me."
)


@pytest.fixture(scope="module")
def spacy_nlp() -> tuple[SpacyNLP, SpacyModel]:
    """Rasa's SpacyNLP component holding the project's pipeline, as config.yml loads it."""
    model = SpacyModel(model=build(), model_name="mbc")
    return SpacyNLP(model, SpacyNLP.get_default_config()), model


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> RedFlagDetector:
    return create_detector(tmp_path_factory.mktemp("storage"))


def create_detector(storage_path: Path, **config: Any) -> RedFlagDetector:
    return RedFlagDetector.create(
        {**RedFlagDetector.get_default_config(), **config},
        LocalModelStorage(storage_path),
        Resource("red_flags"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def predicted_message(text: str, intent: str = PREDICTED, confidence: float = 0.9) -> Message:
    """A message as the intent classifier leaves it: the intent and a ranking."""
    message = Message(data={TEXT: text})
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "coping", "confidence": round(1 - confidence, 3)},
    ]
    message.set(INTENT, ranking[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    return message


@pytest.fixture(scope="module")
def parse(spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector) -> Any:
    """Run a text through SpacyNLP, a prediction of `treatment` and the detector."""

    def run(text: str) -> Message:
        component, model = spacy_nlp
        message = predicted_message(text)
        component.process([message], model)
        return detector.process([message])[0]

    return run


def assert_red_flag(message: Message, kind: str) -> None:
    assert message.get(INTENT) == {"name": kind, "confidence": 1.0}
    assert message.get(RED_FLAG)["kind"] == kind


@pytest.mark.parametrize(("text", "family"), EMERGENCIES)
def test_emergencies_fire(parse: Any, detector: RedFlagDetector, text: str, family: str) -> None:
    message = parse(text)
    assert_red_flag(message, EMERGENCY)
    assert detector.find(message).family == family  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "family"), SELF_HARM_MESSAGES)
def test_self_harm_fires(parse: Any, detector: RedFlagDetector, text: str, family: str) -> None:
    message = parse(text)
    assert_red_flag(message, SELF_HARM)
    assert detector.find(message).family == family  # type: ignore[union-attr]


@pytest.mark.parametrize("text", NOT_RED_FLAGS)
def test_symptom_questions_and_denials_do_not_fire(parse: Any, text: str) -> None:
    message = parse(text)
    assert message.get(INTENT)["name"] == PREDICTED
    assert message.get(RED_FLAG) is None
    assert RED_FLAG not in message.as_dict(only_output_properties=True)


def test_every_family_is_tested() -> None:
    patterns = yaml.safe_load(PATTERNS_PATH.read_text(encoding="utf-8"))
    tested = {
        EMERGENCY: {family for _, family in EMERGENCIES + WARNING_SIGNS + MORE_WARNING_SIGNS},
        SELF_HARM: {family for _, family in SELF_HARM_MESSAGES},
    }
    for kind in KINDS:
        assert set(patterns[kind]) == tested[kind]


@pytest.mark.parametrize(
    ("flag", "kind"),
    [
        ("she is having a seizure right now", EMERGENCY),
        ("my mom cant breath", EMERGENCY),
        ("i keep coughing up blood", EMERGENCY),
        ("honestly i want to end it all", SELF_HARM),
        ("sometimes i think everyone would be better off without me", SELF_HARM),
    ],
)
def test_red_flag_in_the_middle_of_a_long_question(parse: Any, flag: str, kind: str) -> None:
    message = parse(LONG_PREFIX + flag + LONG_SUFFIX)
    assert_red_flag(message, kind)


@settings(WITH_FIXTURES, max_examples=40)
@given(
    before=st.sampled_from(["", "hi. ", "sorry to bother you. ", "question about my mom: "]),
    flag=st.sampled_from(
        [text for text, _ in EMERGENCIES[:12]] + [text for text, _ in SELF_HARM_MESSAGES[:12]]
    ),
    after=st.sampled_from(["", ".", "!!", " what should i do?", ". also, how is it treated?"]),
)
def test_surrounding_words_do_not_hide_a_red_flag(
    parse: Any, before: str, flag: str, after: str
) -> None:
    assert parse(before + flag + after).get(RED_FLAG) is not None


def test_the_original_intent_is_second_in_the_ranking(parse: Any) -> None:
    message = parse("my wife is having a seizure, what do i do")
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0] == {"name": EMERGENCY, "confidence": 1.0}
    assert ranking[1] == {"name": PREDICTED, "confidence": 0.9}
    assert [intent["name"] for intent in ranking] == [EMERGENCY, PREDICTED, "coping"]


def test_a_correct_prediction_is_not_listed_twice(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector
) -> None:
    component, model = spacy_nlp
    message = predicted_message("i want to kill myself", intent=SELF_HARM, confidence=0.8)
    component.process([message], model)
    detector.process([message])
    names = [intent["name"] for intent in message.get(INTENT_RANKING_KEY)]
    assert names == [SELF_HARM, "coping"]
    assert message.get(INTENT)["confidence"] == 1.0


def test_overrides_nlu_fallback(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector
) -> None:
    component, model = spacy_nlp
    fallback = FallbackClassifier({"threshold": 0.5, "ambiguity_threshold": 0.1})
    message = predicted_message("help my dad passed out", intent="greet", confidence=0.3)
    component.process([message], model)
    fallback.process([message])
    assert message.get(INTENT)["name"] == DEFAULT_NLU_FALLBACK_INTENT_NAME

    detector.process([message])
    names = [intent["name"] for intent in message.get(INTENT_RANKING_KEY)]
    assert message.get(INTENT) == {"name": EMERGENCY, "confidence": 1.0}
    assert names[:3] == [EMERGENCY, DEFAULT_NLU_FALLBACK_INTENT_NAME, "greet"]


def test_red_flag_is_an_output_property(parse: Any) -> None:
    output = parse("I Cant Breathe!!").as_dict(only_output_properties=True)
    assert output[RED_FLAG] == {"kind": EMERGENCY, "phrase": "cant breathe"}
    assert output[INTENT] == {"name": EMERGENCY, "confidence": 1.0}


def test_emergency_wins_over_self_harm(parse: Any) -> None:
    message = parse("i keep thinking about an overdose and now i can't breathe")
    assert_red_flag(message, EMERGENCY)
    assert message.get(RED_FLAG)["phrase"] == "can't breathe"


def test_a_denial_does_not_cancel_another_red_flag(parse: Any) -> None:
    assert_red_flag(parse("i'm not suicidal but i want to end it all"), SELF_HARM)
    assert_red_flag(parse("i don't want to die but i want to hurt myself"), SELF_HARM)


def test_works_without_a_spacy_doc(detector: RedFlagDetector) -> None:
    message = predicted_message("My Mom Is Having A Seizure")
    assert message.get(SPACY_DOCS[TEXT]) is None
    detector.process([message])
    assert_red_flag(message, EMERGENCY)
    assert message.get(RED_FLAG)["phrase"] == "having a seizure"


def test_works_with_a_case_sensitive_spacy_doc(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector
) -> None:
    _, model = spacy_nlp
    component = SpacyNLP(model, {"case_sensitive": True})
    message = predicted_message("Coughing Up Blood since last night")
    component.process([message], model)
    assert message.get(SPACY_DOCS[TEXT]).text.startswith("Coughing")
    detector.process([message])
    assert_red_flag(message, EMERGENCY)


def test_message_without_text_is_unchanged(detector: RedFlagDetector) -> None:
    message = Message(data={INTENT: {"name": "greet", "confidence": 1.0}})
    detector.process([message])
    assert message.get(INTENT) == {"name": "greet", "confidence": 1.0}
    assert message.get(RED_FLAG) is None


def test_a_broken_patterns_file_fails_when_created(tmp_path: Path) -> None:
    broken = tmp_path / "red_flags.yml"
    broken.write_text(
        "emergency: {breathing: [[{LOWR: breathe}]]}\nself_harm: {}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError):
        create_detector(tmp_path, **{PATTERNS_FILE_KEY: str(broken)})


def pipeline_names() -> list[str]:
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    return [component["name"] for component in config["pipeline"]]


def test_detector_is_the_last_nlu_component() -> None:
    names = pipeline_names()
    assert names[-1] == DETECTOR_NAME
    # The fallback classifier and every component that can override an intent come before it.
    assert names.index("FallbackClassifier") < names.index(DETECTOR_NAME)


def test_rasa_accepts_the_pipeline() -> None:
    """Rasa builds and validates the training and prediction graphs (no training)."""
    from rasa.engine import validation
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType
    from rasa.shared.utils.io import read_model_configuration

    config = read_model_configuration(PROJECT_ROOT / "config.yml")
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    graph_config = recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH)
    validation.validate(graph_config)
    assert any(node.uses is RedFlagDetector for node in graph_config.predict_schema.nodes.values())


# --- the warning signs of metastatic disease ---------------------------------------------


@pytest.mark.parametrize(("text", "family"), WARNING_SIGNS + MORE_WARNING_SIGNS + LONG_MESSAGES)
def test_warning_signs_fire(parse: Any, detector: RedFlagDetector, text: str, family: str) -> None:
    message = parse(text)
    assert_red_flag(message, EMERGENCY)
    assert detector.find(message).family == family  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "family"), LONG_MESSAGES)
def test_warning_signs_fire_in_dictated_run_ons(
    parse: Any, detector: RedFlagDetector, text: str, family: str
) -> None:
    """Dictation: no punctuation, no capitals."""
    run_on = re.sub(r"[.,?!](\s|$)", r"\1", text).lower()
    assert detector.find(parse(run_on)).family == family  # type: ignore[union-attr]


FILLER = [
    "My mum was diagnosed with metastatic breast cancer two years ago.",
    "She has been on several treatments and the nurses have been lovely.",
    "I am writing for her because she is tired.",
    "Can you tell me what the treatment is meant to do?",
]


@pytest.mark.parametrize("position", [0, 2, 4])
@pytest.mark.parametrize(
    ("flag", "family"),
    [
        ("Her temp is 38.6 and she had chemo on Tuesday.", "fever_during_chemo"),
        ("She can't keep water down.", "vomiting"),
        ("She swallowed the whole bottle of her sleeping pills.", "overdose_taken"),
        ("Her lips look blue.", "breathing"),
        ("She is suddenly very confused.", "confusion"),
    ],
)
def test_a_warning_sign_in_any_sentence_of_a_long_message(
    parse: Any, detector: RedFlagDetector, position: int, flag: str, family: str
) -> None:
    message = " ".join([*FILLER[:position], flag, *FILLER[position:]])
    assert detector.find(parse(message)).family == family  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("first", "second", "family"),
    [
        ("Her back pain is much worse.", "Her legs feel weak.", "spinal_cord_compression"),
        ("My back hurts a lot.", "I wet myself today.", "spinal_cord_compression"),
        ("Temp 38.5 tonight.", "Chemo was 9 days ago.", "fever_during_chemo"),
        ("He is shivering.", "He is on chemotherapy.", "fever_during_chemo"),
        ("Her eyes look yellow.", "She is so sleepy.", "jaundice_with_confusion"),
    ],
)
def test_a_combination_fires_in_either_order_and_not_by_halves(
    parse: Any, detector: RedFlagDetector, first: str, second: str, family: str
) -> None:
    for message in (f"{first} {FILLER[2]} {second}", f"{second} {FILLER[2]} {first}"):
        assert detector.find(parse(message)).family == family  # type: ignore[union-attr]
    for half in (first, second):
        assert parse(f"{half} {FILLER[2]}").get(RED_FLAG) is None


def test_a_combination_names_both_phrases(parse: Any) -> None:
    message = parse("my back pain is worse and my legs feel weak")
    assert message.get(RED_FLAG) == {
        "kind": EMERGENCY,
        "phrase": "my back pain is worse + legs feel weak",
    }


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("temp 38 and on chemo", True),
        ("temp 37.9 and on chemo", False),
        ("temperature 100.4 f, on chemo", True),
        ("temperature 100.3 f, on chemo", False),
        ("38.1c on chemo", True),
        ("37,9 fever on chemo", False),
        ("39 degrees and on chemo", True),
        ("fever of 37.6 during chemo", False),
        ("my temp is 102 and i'm on kemo", True),
        ("temp 98.6 on chemo", False),
        ("chemo cycle 38 starts tomorrow", False),
    ],
)
def test_fever_threshold_is_38_celsius_or_100_4_fahrenheit(
    parse: Any, text: str, fires: bool
) -> None:
    assert (parse(text).get(RED_FLAG) is not None) is fires


@pytest.mark.parametrize(
    ("word", "celsius", "has_unit"),
    [
        ("38.4", 38.4, False),
        ("38,5", 38.5, False),
        ("39", 39.0, False),
        ("101.2f", 38.44, True),
        ("100.4", 38.0, False),
        ("39°c", 39.0, True),
        ("38.5º", 38.5, True),
        ("38.5deg", 38.5, True),
        ("8", math.nan, False),
        ("2024", math.nan, False),
        ("39f", math.nan, False),
        ("fever", math.nan, False),
    ],
)
def test_temperatures_are_read_in_celsius(word: str, celsius: float, has_unit: bool) -> None:
    value, unit = read_temperature(word)
    assert value == pytest.approx(celsius, nan_ok=True)
    assert unit is has_unit


@pytest.mark.parametrize(
    ("word", "number"), [("25", 25.0), ("twenty", 20.0), ("a", math.nan), ("2,5", 2.5)]
)
def test_counts_are_read_in_digits_or_words(word: str, number: float) -> None:
    assert read_number(word) == pytest.approx(number, nan_ok=True)


@pytest.mark.parametrize(
    "text",
    [
        "i took 2 tylenol for the headache",
        "back pain but no numbness or weakness",
        "my back hurts, is it normal on chemo",
        "she fainted last year",
        "can spine mets cause back pain and leg weakness?",
        "if i get a fever during chemo should i call",
        "would i get confused?",
        "will she start bleeding?",
        "would i get seizures if it went to my brain?",
    ],
)
def test_warning_sign_words_alone_do_not_fire(parse: Any, text: str) -> None:
    assert parse(text).get(RED_FLAG) is None


@pytest.mark.parametrize(
    "text",
    [
        "if i get worse i will kill myself",
        "it would cause me to kill myself",
        "what if i just kill myself",
        "she fainted last year and now she wants to die",
    ],
)
def test_exceptions_for_emergencies_never_hide_self_harm(parse: Any, text: str) -> None:
    assert_red_flag(parse(text), SELF_HARM)


@pytest.mark.parametrize(
    "text",
    [
        "fever of 38.5 on chemo is that ok",
        "temp 38.5 on chemo, is that ok?",
        "she fainted, is she ok",
        "i had chemo yesterday and now temp 38.5, is it ok",
        (
            "my husband had chemo last week, now he is breathless and feverish and temp 38.6, "
            "is he going to be ok"
        ),
        "she was fine this morning but now she can't breathe",
        "can you help me my mum can't breathe",
        "can you help i took too many pills",
        "is it bad i took too many pills",
        "what does it mean if my husband is not responding",
        "i'm in my first cycle and have a fever of 38.5",
        "fever 38.5 after my last cycle",
        "he collapsed and he doesn't seem ok",
        "my dad is on chemo and feels ok but his temp is 38.4",
        "she had a seizure last year and today she is seizing again",
        "had chemo on monday, temp 38.5 now ok?",
        "i'm having a panic attack and i can't breathe",
        "i think i'm having a heart attack, i have anxiety but this feels different",
        "my nose is bleeding for an hour, is that normal",
        "is it normal that my nose has been bleeding for an hour on chemo",
        "does my temp of 38.3 on chemo mean infection",
        "i passed out on the floor",
        "she passed out on the sofa",
        "how much is too much, i took 20 pills",
        "is anyone there my mum cant breathe",
        "will the oxygen make it easier she cant breathe at all",
        "how do you help someone who is not breathing",
        "can someone help my dad collapsed",
        "will she be ok? she is suddenly very confused",
        "could she be having a seizure?",
        "would he get confused like this? he is confused and drowsy and yellow",
    ],
)
def test_exceptions_do_not_hide_an_emergency_now(parse: Any, text: str) -> None:
    """Questions, "is that ok", "now", a panic attack now: the exceptions stop before them."""
    assert_red_flag(parse(text), EMERGENCY)


# --- clearing the classifier's false alarms ----------------------------------------------


def classified(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], text: str, intent: str, confidence: float
) -> Message:
    component, model = spacy_nlp
    message = predicted_message(text, intent=intent, confidence=confidence)
    component.process([message], model)
    return message


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I feel like I let this happen to myself", SELF_HARM),
        ("she had a seizure two weeks ago, she's stable now", EMERGENCY),
        ("am i going to die", SELF_HARM),
        ("how many sleeping pills can I take", SELF_HARM),
    ],
)
def test_a_predicted_safety_intent_that_exceptions_explain_is_replaced(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector, text: str, intent: str
) -> None:
    message = classified(spacy_nlp, text, intent, 0.8)
    detector.process([message])
    assert message.get(INTENT) == {"name": "coping", "confidence": 0.2}
    assert [i["name"] for i in message.get(INTENT_RANKING_KEY)] == ["coping", intent]
    assert message.get(RED_FLAG) is None


@pytest.mark.parametrize(
    "text",
    [
        # No exception: the classifier may know a way of saying it that the patterns do not.
        "i dont plan on being here next week",
        # "dying" is outside the guilt phrase.
        "i blame myself and i dont see a way out except dying",
        # "collapsed" is outside the past event.
        "she fainted last year and today she collapsed again",
    ],
)
def test_a_predicted_safety_intent_stays_unless_every_alarm_word_is_explained(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector, text: str
) -> None:
    message = classified(spacy_nlp, text, SELF_HARM, 0.7)
    detector.process([message])
    assert message.get(INTENT)["name"] in KINDS


def test_replacing_explained_alarms_can_be_switched_off(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], tmp_path: Path
) -> None:
    detector = create_detector(tmp_path, **{DEMOTE_KEY: False})
    message = classified(spacy_nlp, "I blame myself", SELF_HARM, 0.8)
    detector.process([message])
    assert message.get(INTENT) == {"name": SELF_HARM, "confidence": 0.8}


# --- retraining when the patterns change -------------------------------------------------


def test_the_fingerprint_changes_with_the_patterns_file(tmp_path: Path) -> None:
    default = RedFlagDetector.fingerprint_addon(RedFlagDetector.get_default_config())
    copy = tmp_path / "red_flags.yml"
    copy.write_bytes(PATTERNS_PATH.read_bytes())
    config = {**RedFlagDetector.get_default_config(), PATTERNS_FILE_KEY: str(copy)}
    assert RedFlagDetector.fingerprint_addon(config) == default
    copy.write_text(copy.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert RedFlagDetector.fingerprint_addon(config) != default
