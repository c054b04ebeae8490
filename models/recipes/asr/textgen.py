"""Programmatic English text corpus for a public-service hotline / contact centre.

Templates + word lists -> tens of thousands of varied sentences, already
normalised (lowercase a-z, apostrophe, space; numbers as words).
"""
import random
from textnorm import normalize, num_words, ordinal_words, digits_words

FIRST = "james mary john patricia robert jennifer michael linda william elizabeth david barbara richard susan joseph jessica thomas sarah charles karen chris nancy daniel lisa matthew betty anthony margaret mark sandra donald ashley steven kimberly paul emily andrew donna joshua michelle kenneth carol kevin amanda brian melissa george deborah timothy stephanie ronald rebecca jason laura edward helen jeffrey sharon ryan cynthia jacob kathleen gary amy nicholas shirley eric angela jonathan anna stephen ruth larry brenda justin pamela scott nicole brandon katherine benjamin samantha samuel christine gregory emma alexander catherine frank debra patrick rachel raymond carolyn jack janet dennis maria jerry heather tyler diane aaron julie jose joyce adam victoria nathan kelly henry christina zachary joan douglas evelyn peter lauren kyle judith noah olivia ethan martha jeremy cheryl walter megan christian andrea keith hannah roger jacqueline terry ann austin jean sean alice gerald kathryn carl sophia harold frances dylan teresa arthur gloria lawrence doris jordan sara jesse janice bryan julia billy marie bruce madison gabriel grace joe judy logan abigail alan beverly juan denise albert theresa willie marilyn elijah amber wayne danielle randy rose mason brittany vincent diana liam natalie roy sophie bobby lori mohammed fatima wei mei raj priya carlos lucia ahmed aisha olga ivan".split()
LAST = "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales fisher vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford castro marshall owens harrison fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb tucker guzman burns crawford olson simpson porter hunter gordon mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose stone salazar fox warren mills meyer rice schmidt garza daniels ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley spencer hawkins arnold pierce hansen peters santos hart bradley knight elliott cunningham duncan armstrong hudson carroll lane riley andrews ray berry perkins hoffman johnston matthews pena richards willis carpenter lawrence sandoval".split()
STREET = "main oak maple cedar pine elm washington lake hill park view sunset lincoln jackson church river spring north south east west ridge highland forest meadow willow cherry walnut chestnut franklin jefferson madison adams center market mill school union broad water bridge king queen victoria station college academy harbor valley orchard birch poplar hickory magnolia dogwood laurel spruce sycamore juniper aspen garden green greenwood fairview riverside lakeview hillside woodland prospect liberty independence grove cambridge oxford hampton windsor kensington chelsea monroe harrison grant roosevelt kennedy martin luther king".split()
STREET_TYPE = ["street", "avenue", "road", "drive", "lane", "boulevard", "court", "place", "way", "circle", "terrace", "parkway", "crescent", "close", "square"]
CITY = "springfield riverside franklin greenville bristol clinton fairview salem madison georgetown arlington ashland burlington manchester milton newport oxford chester dover hudson kingston lexington marion mount vernon oakland plymouth richmond winchester dayton auburn jackson lancaster portland columbia camden hamilton".split()
MONTHS = "january february march april may june july august september october november december".split()
DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
SERVICES = ["water", "electricity", "gas", "trash collection", "recycling", "bulk pickup", "street lighting", "parking",
            "public transport", "bus", "train", "housing", "council tax", "property tax", "benefits", "unemployment",
            "pension", "social security", "health insurance", "medicare", "medicaid", "food stamps", "child care",
            "school enrolment", "library", "permit", "building permit", "business license", "driver's license",
            "vehicle registration", "passport", "birth certificate", "marriage certificate", "noise complaint",
            "pothole repair", "sidewalk repair", "snow removal", "tree trimming", "animal control", "pest control",
            "graffiti removal", "abandoned vehicle", "street cleaning", "sewer", "drainage", "flooding", "power outage",
            "internet", "phone line", "billing", "refund", "payment plan", "late fee", "account", "appointment",
            "vaccination", "clinic", "hospital", "ambulance", "police report", "fire department", "emergency shelter",
            "senior services", "disability services", "veterans services", "tax return", "rent assistance", "heating assistance"]
PROBLEMS = ["hasn't been collected", "is broken", "has been leaking for days", "stopped working", "is not working",
            "was cut off", "keeps going out", "is too high", "was charged twice", "never arrived", "is overdue",
            "was cancelled without notice", "is making a loud noise", "is blocked", "is flooded", "smells of gas",
            "has been damaged", "was denied", "is still pending", "has been delayed again", "is wrong", "is missing"]
OBJECTS = ["bill", "letter", "invoice", "statement", "form", "application", "card", "meter", "bin", "container",
           "payment", "check", "refund", "reference number", "confirmation", "receipt", "voucher", "certificate",
           "street light", "traffic light", "water pipe", "fire hydrant", "manhole cover", "bus stop", "parking meter"]
FEELINGS = ["frustrated", "upset", "really disappointed", "confused", "worried", "angry", "tired of waiting",
            "very unhappy", "not satisfied", "grateful", "relieved", "happy", "concerned", "annoyed"]
DEPTS = ["billing", "customer service", "technical support", "the housing office", "the benefits team", "a supervisor",
         "your manager", "the complaints department", "accounts", "the sanitation department", "public works",
         "the permits office", "the tax office", "the helpdesk", "an operator", "a nurse", "the social worker"]
TIMES_OF_DAY = ["morning", "afternoon", "evening", "night"]
DIGITS_SPOKEN = ["zero", "oh"]


def rnd_phone(r):
    d = "".join(str(r.randint(0, 9)) for _ in range(10))
    parts = [d[:3], d[3:6], d[6:]]
    def sp(p):
        return " ".join(("oh" if (c == "0" and r.random() < 0.4) else num_words(int(c))) for c in p)
    if r.random() < 0.2:
        return sp(parts[0]) + " " + sp(parts[1]) + " " + num_words(int(parts[2][:2])) + " " + num_words(int(parts[2][2:])) if parts[2][0] != "0" and parts[2][2] != "0" else " ".join(sp(p) for p in parts)
    return " ".join(sp(p) for p in parts)


def rnd_case(r):
    letters = "abcdefghijklmnopqrstuvwxyz"
    n = r.randint(4, 8)
    ds = "".join(str(r.randint(0, 9)) for _ in range(n))
    pre = ""
    if r.random() < 0.5:
        pre = " ".join(r.choice(letters) for _ in range(r.randint(1, 3))) + " "
    return pre + digits_words(ds)


def rnd_amount(r):
    d = r.choice([r.randint(1, 99), r.randint(100, 999), r.randint(1000, 9999), r.randint(5, 500)])
    c = r.randint(0, 99)
    if r.random() < 0.4 or c == 0:
        return num_words(d) + " dollars"
    if r.random() < 0.5:
        return num_words(d) + " dollars and " + num_words(c) + " cents"
    return num_words(d) + " " + (num_words(c) if c >= 10 else "oh " + num_words(c))


def rnd_date(r):
    m, day = r.choice(MONTHS), r.randint(1, 28)
    f = r.random()
    if f < 0.35:
        return m + " " + ordinal_words(day)
    if f < 0.6:
        return "the " + ordinal_words(day) + " of " + m
    if f < 0.8:
        return r.choice(DAYS) + " " + m + " " + ordinal_words(day)
    y = r.choice([2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026, 1998, 1985])
    ys = num_words(y) if r.random() < 0.5 else (num_words(y // 100) + " " + (num_words(y % 100) if y % 100 >= 10 else "oh " + num_words(y % 100))) if y % 100 else num_words(y)
    return m + " " + ordinal_words(day) + " " + ys


def rnd_time(r):
    h = r.randint(1, 12)
    mm = r.choice([0, 0, 15, 30, 45, r.randint(1, 59)])
    if mm == 0:
        t = num_words(h) + r.choice([" o'clock", "", " a m", " p m"])
    elif mm == 30 and r.random() < 0.3:
        t = "half past " + num_words(h)
    elif mm == 15 and r.random() < 0.3:
        t = "quarter past " + num_words(h)
    else:
        t = num_words(h) + " " + (num_words(mm) if mm >= 10 else "oh " + num_words(mm)) + r.choice(["", " a m", " p m"])
    if r.random() < 0.3:
        t += " in the " + r.choice(TIMES_OF_DAY[:3])
    return t


def rnd_address(r):
    n = r.choice([r.randint(1, 99), r.randint(100, 999), r.randint(1000, 9999)])
    ns = num_words(n) if n < 100 or r.random() < 0.4 else (digits_words(str(n)) if r.random() < 0.5 else
         num_words(n // 100) + " " + (num_words(n % 100) if n % 100 >= 10 else ("hundred" if n % 100 == 0 else "oh " + num_words(n % 100))))
    st = r.choice(STREET)
    if r.random() < 0.15:
        st = ordinal_words(r.randint(1, 60))
    a = ns + " " + st + " " + r.choice(STREET_TYPE)
    if r.random() < 0.25:
        a += " apartment " + (num_words(r.randint(1, 40)) + " " + r.choice("abcdef") if r.random() < 0.5 else num_words(r.randint(1, 400)))
    if r.random() < 0.3:
        a += " in " + r.choice(CITY)
    return a


def name(r):
    return r.choice(FIRST) + (" " + r.choice(LAST) if r.random() < 0.7 else "")


SLOT = {
    "NAME": name, "FIRST": lambda r: r.choice(FIRST), "LAST": lambda r: r.choice(LAST),
    "PHONE": rnd_phone, "CASE": rnd_case, "AMOUNT": rnd_amount, "DATE": rnd_date, "TIME": rnd_time,
    "ADDR": rnd_address, "SERVICE": lambda r: r.choice(SERVICES), "PROBLEM": lambda r: r.choice(PROBLEMS),
    "OBJ": lambda r: r.choice(OBJECTS), "FEEL": lambda r: r.choice(FEELINGS), "DEPT": lambda r: r.choice(DEPTS),
    "DAY": lambda r: r.choice(DAYS), "MONTH": lambda r: r.choice(MONTHS), "CITY": lambda r: r.choice(CITY),
    "NUM": lambda r: num_words(r.choice([r.randint(1, 12), r.randint(1, 100), r.randint(100, 2000)])),
    "DIGIT": lambda r: num_words(r.randint(0, 9)), "ORD": lambda r: ordinal_words(r.randint(1, 31)),
    "WEEKS": lambda r: r.choice(["two", "three", "four", "six", "several", "a few"]),
    "STREET": lambda r: r.choice(STREET) + " " + r.choice(STREET_TYPE),
    "SPELL": lambda r: " ".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(3, 6))),
}

TEMPLATES = """hello my name is NAME and i'm calling about my SERVICE
hi this is NAME i'd like to report that the SERVICE PROBLEM
good morning i'm calling because my OBJ PROBLEM
the SERVICE at ADDR PROBLEM
i live at ADDR and the SERVICE PROBLEM
my address is ADDR
my phone number is PHONE
you can reach me at PHONE
my case number is CASE
the reference number is CASE
my account number is CASE
i was charged AMOUNT on my last OBJ
the OBJ says i owe AMOUNT but i already paid
i paid AMOUNT on DATE
i'd like to make a payment of AMOUNT
can i set up a payment plan for AMOUNT
i'm calling to file a complaint about the SERVICE
i want to make a complaint
i've been waiting WEEKS weeks for someone to fix the SERVICE
nobody has come out to look at it since DATE
i called last DAY and nobody called me back
i'm FEEL because this is the third time i've called
honestly i'm FEEL with the way this has been handled
can i speak to DEPT please
could you transfer me to DEPT
i need to speak with someone about my SERVICE
i need an appointment on DATE at TIME
is there anything available on DAY at TIME
my appointment was scheduled for DATE at TIME
can we reschedule to DAY afternoon
the technician was supposed to come at TIME but never showed up
i'd like to request a new OBJ
i never received my OBJ
i need to update my address to ADDR
i moved to ADDR on DATE
my date of birth is DATE
can you spell that for me
it's spelled SPELL
my last name is LAST that's SPELL
the name on the account is NAME
yes that's correct
no that's not right
could you repeat that please
sorry i didn't catch that
please hold for a moment
thank you for calling the city help line how can i help you today
thank you for your patience
can i have your case number please
can i get your full name and address
what is the best phone number to reach you
i've opened a new case for you the number is CASE
a crew will be sent out within NUM business days
your request has been escalated to DEPT
someone from DEPT will call you back at PHONE
is there anything else i can help you with
have a nice day
the office is open from TIME to TIME monday to friday
our hours are TIME to TIME
press DIGIT for SERVICE
for SERVICE press DIGIT
please enter your account number followed by the pound key
your call is important to us please stay on the line
all of our agents are currently busy
you are caller number NUM in the queue
the estimated wait time is NUM minutes
there's a huge pothole on STREET near ADDR
the street light on STREET has been out since DATE
my neighbor's dog barks all night
there's an abandoned car parked on STREET for WEEKS weeks
the bins on STREET weren't collected on DAY
there was water coming up through the road on STREET
the power has been out at ADDR since TIME
i smell gas near ADDR
there's a tree down blocking STREET
i want to apply for SERVICE
how do i apply for SERVICE
what documents do i need for the SERVICE application
my SERVICE application was denied and i want to appeal
when will my SERVICE payment arrive
i haven't received my SERVICE payment for MONTH
i'm calling on behalf of my mother NAME
my son FIRST needs help with SERVICE
i'm a senior and i can't get out to the office
i need someone who speaks spanish
can you send me a copy by mail to ADDR
can you email me the form
my email is FIRST dot LAST at gmail dot com
i was on hold for NUM minutes
this is ridiculous i've been calling since DATE
okay thank you so much for your help
alright i'll wait for the call then
that's fine go ahead
let me get a pen
hold on let me check
i'll call back tomorrow
the bill went up from AMOUNT to AMOUNT
why is my bill AMOUNT this month
there's a late fee of AMOUNT that i don't understand
i need a refund of AMOUNT
my refund of AMOUNT was supposed to arrive on DATE
the ORD of MONTH would work for me
i'm available DAY or DAY
i'm calling from CITY
we live in CITY near the STREET
is this the right number for SERVICE
i think i dialed the wrong number
i'm calling to cancel my appointment on DATE
i want to confirm my appointment for DATE at TIME
i need to report a noise complaint at ADDR
there's a leak in my apartment at ADDR
the heating in my building has been off since DATE
my landlord won't fix the SERVICE
the elevator in our building PROBLEM
i got a letter saying my SERVICE will be cut off on DATE
i'd like to dispute a charge of AMOUNT
the ticket number is CASE
i was told to call this number about SERVICE
extension NUM please
dial PHONE for more information
our records show a balance of AMOUNT
your next payment of AMOUNT is due on DATE
we received your payment of AMOUNT on DATE
the meter reading was NUM
there are NUM people in my household
i've lived here for NUM years""".strip().split("\n")

GENERAL = """i don't know what to tell you
that sounds good to me
what time does the store close
we went to the park last weekend
i'll have to think about it
could you please speak a little louder
the weather has been really strange this week
i'm not sure that's going to work
let's talk about it tomorrow morning
did you get my message
i think the meeting was moved to the afternoon
she said she would be here by noon
he's been working from home all week
the kids are back at school now
i really appreciate your help with this
it's been a long day
can you hear me now
the line is breaking up
you're cutting out a little bit
i'm driving right now can i call you back
we need to pick up some groceries on the way home
it's raining pretty hard out here
what did you say your name was
that makes sense thank you
i'm sorry to hear that
no problem at all
just a second please
yes i understand
no i don't think so
maybe next week would be better
how much does it cost
where is the nearest office
i'm looking for some information
is there a fee for that
how long will it take
what happens if i miss the deadline
i already sent in all the paperwork
my internet has been really slow
the bus was late again this morning
i lost my wallet yesterday
my car wouldn't start this morning
the doctor told me to rest for a week
i'd like to speak to a real person
good afternoon how are you doing
i'm doing well thanks for asking
that's exactly what i was looking for
please let me know if anything changes""".strip().split("\n")


def fill(tpl, r):
    out = []
    for w in tpl.split(" "):
        if w in SLOT:
            out.append(SLOT[w](r))
        else:
            out.append(w)
    return " ".join(out)


def generate(n, seed=0):
    r = random.Random(seed)
    seen, res = set(), []
    tries = 0
    while len(res) < n and tries < n * 20:
        tries += 1
        u = r.random()
        if u < 0.72:
            s = fill(r.choice(TEMPLATES), r)
        elif u < 0.85:
            s = r.choice(GENERAL)
            if r.random() < 0.5:
                s = s + " " + fill(r.choice(TEMPLATES), r)
        else:
            # two short pieces joined, like a conversational turn
            s = fill(r.choice(TEMPLATES), r) + " " + r.choice(["okay", "and", "so", "um", "yes", "well", "because", "but"]) + " " + fill(r.choice(TEMPLATES + GENERAL), r)
        if r.random() < 0.15:
            s = r.choice(["yes", "okay", "hi", "hello", "well", "so", "um", "uh", "right", "sure"]) + " " + s
        s = normalize(s)
        if 2 <= len(s.split()) <= 32 and s not in seen:
            seen.add(s)
            res.append(s)
    return res


if __name__ == "__main__":
    import sys
    for s in generate(int(sys.argv[1]) if len(sys.argv) > 1 else 20, seed=1):
        print(s)
