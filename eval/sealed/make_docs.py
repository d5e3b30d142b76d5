"""Generate the four invented documents for the sealed docs set.

All text is held in this script; output is deterministic:
  docs/kelvra_water_report.docx   (python-docx, real Heading styles, tables)
  docs/tarnowe_rail_review.html   (h1/h2 headings, a <table>)
  docs/miravel_orchards_guide.pdf (reportlab, bold heading paragraphs)
  docs/saltmere_festival_notes.md (# headings, a markdown table)
Everything (organisations, region, people, places, numbers) is invented.
Usage: python make_docs.py
"""
import html
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "docs")

# ---------------------------------------------------------------------------
# Document 1: docx
# ---------------------------------------------------------------------------
WATER = {
    "file": "kelvra_water_report.docx",
    "title": "Kelvra Valley Water Cooperative: Annual Operations Report 2031",
    "sections": [
        ("Overview", [
            "The Kelvra Valley Water Cooperative was founded in 1987 in the market town of Drummel Ford, when eleven "
            "parish water committees agreed to pool their reservoirs and share the cost of treatment. Today the "
            "cooperative supplies drinking water to 41,300 households across 14 member municipalities, from the "
            "upland hamlets around Loskey Tarn down to the river meadows south of Pellory.",
            "This report covers the operating year that ended on 30 September 2031. It was prepared by the general "
            "manager, Teodor Vashti, and approved by the board under its chair, Odalys Fenwick-Marr. The deputy "
            "general manager, Zoë Lindqvist-Ávila, led the drought response described later in the report.",
            "The year was shaped by a dry summer, the second full year of the pipeline renewal programme and a "
            "tariff increase that members approved at the spring meeting. Water quality met the regional standard "
            "on every sampling day except two, both linked to a turbidity event at the Fernhollow works in February.",
        ]),
        ("Governance and Membership", [
            "The cooperative is owned by its members, who are the household and business customers of the 14 "
            "municipalities. Members elect a board of nine directors, each serving a three-year term, and no director "
            "may serve more than three consecutive terms. Three seats fall vacant every year so that the board never "
            "changes all at once.",
            "The annual general meeting took place on 14 March 2031 at Ashgrove Hall in Drummel Ford. A total of 312 "
            "members attended in person and a further 1,046 voted by post. The meeting approved the 2031 tariff, "
            "re-elected two directors and elected one new director, the hydrologist Piet Abernathy-Soyer.",
            "The municipality of Pellory became the fourteenth member in January 2031 after its own small treatment "
            "plant was closed. Pellory households were connected through a new 5.2 km trunk main from the Cobble "
            "Reach plant, and they now pay the same tariff as every other member.",
        ]),
        ("Reservoirs and Storage", [
            "The cooperative draws almost all of its raw water from four upland reservoirs. Their combined capacity "
            "is 35,000 megalitres, enough for roughly fourteen months of normal demand without rain. The table below "
            "shows each reservoir with its fill level at the end of the operating year.",
            {"table": [
                ["Reservoir", "Capacity (megalitres)", "Year commissioned", "Fill level on 30 September 2031"],
                ["Loskey Tarn", "18,400", "1962", "71%"],
                ["Brackwater", "9,750", "1988", "64%"],
                ["Upper Sennet", "4,200", "2004", "88%"],
                ["Halloran Basin", "2,650", "2019", "93%"],
            ]},
            "Loskey Tarn is the oldest and largest of the four. Its earth dam was given its ten-yearly statutory "
            "inspection in May 2031 by the firm Marwick & Osei Engineering, which reported minor seepage at the "
            "eastern toe and recommended a new drainage blanket, now scheduled for 2033. Brackwater fell furthest "
            "during the summer because it feeds the Cobble Reach plant directly and has the smallest catchment "
            "relative to its size.",
        ]),
        ("Treatment Works", [
            "Raw water is treated at two plants. The Fernhollow Treatment Works, the larger of the two, can treat "
            "62 megalitres per day using clarification, rapid gravity filters and ultraviolet disinfection, which "
            "was added in 2029. The Cobble Reach plant treats up to 28 megalitres per day using slow sand "
            "filtration, a method the cooperative has kept because it needs very little chemical dosing.",
            "In February 2031 a storm washed peat from the hillside above Loskey Tarn into the intake channel. "
            "Turbidity at Fernhollow rose above the alarm threshold for two days, and the plant was switched to a "
            "reduced output of 40 megalitres per day while the filters were backwashed. No boil-water notice was "
            "needed, because Cobble Reach was able to raise its output and the treated-water tanks held enough "
            "reserve to bridge the gap.",
            "A new laboratory at Fernhollow opened in June 2031. It allows the cooperative to test for algal toxins "
            "on site instead of sending samples to the regional laboratory, cutting the time to a result from three "
            "days to about six hours.",
        ]),
        ("Pipeline Renewal Programme", [
            "The pipeline renewal programme, known internally as Project Tessellate, aims to replace 180 km of old "
            "cast-iron mains by 2038. In the 2031 operating year the contractor Brennock Civil replaced 23.6 km of "
            "mains, bringing the total since the programme began to 41.9 km.",
            "The average cost of renewal was 410,000 Kelvran crowns per kilometre, slightly below the budgeted "
            "figure, because much of the year's work was in rural verges where trenching is cheaper than under town "
            "streets. The most difficult section was beneath the old bridge at Drummel Ford, where the main had to "
            "be pulled through a steel sleeve to avoid disturbing the listed stonework.",
            "The main purpose of the programme is to reduce leakage. Measured leakage fell from 19.4% of water "
            "put into supply in 2030 to 16.8% in 2031. The board has set a target of 12% by the end of the "
            "programme. Burst mains also fell, from 214 in 2030 to 167 in 2031.",
        ]),
        ("Finances", [
            "The cooperative finished the year with a modest surplus, which was transferred to the reserve fund. "
            "The main lines of the accounts are shown below in millions of Kelvran crowns.",
            {"table": [
                ["Item (million crowns)", "2030", "2031"],
                ["Revenue from tariffs", "48.2", "51.7"],
                ["Connection fees", "3.1", "2.9"],
                ["Operating costs", "37.5", "39.8"],
                ["Capital spending", "11.0", "14.6"],
            ]},
            "Tariffs rose by 4.5% on 1 April 2031, the first increase above inflation for six years, to fund the "
            "faster pace of pipeline renewal. Operating costs rose mainly because of higher electricity prices for "
            "pumping. The reserve fund stood at 22.3 million crowns at the year end, above the board's minimum of "
            "15 million crowns.",
            "Capital spending of 14.6 million crowns was split between Project Tessellate, the new laboratory and "
            "early design work for enlarging Halloran Basin. The cooperative has no external borrowing.",
        ]),
        ("Staffing and Training", [
            "The cooperative employed 286 people at the end of the year, up from 271. Most of the increase came from "
            "the new laboratory and from a second pipeline inspection crew.",
            "The apprenticeship scheme took on 17 apprentices in 2031, the largest intake since it began. Apprentices "
            "spend their first year at the training centre in Wyecross, where a mock street with buried pipes lets "
            "them practise repairs safely before they work on the live network.",
            "The lost-time injury rate was 0.9 per 100,000 hours worked, compared with 1.3 the year before. The "
            "improvement followed the introduction of vacuum excavation for locating buried cables, which reduced "
            "the number of cable strikes to two.",
        ]),
        ("Drought Preparedness", [
            "Rainfall between May and August 2031 was 58% of the long-term average. On 8 August the board declared "
            "Stage 2 restrictions, which banned the use of hosepipes for gardens and car washing and asked businesses "
            "to cut non-essential use. The restrictions were lifted on 19 September after heavy rain refilled the "
            "upland streams.",
            "Demand fell by about 11% while the restrictions were in force. The drought team also brought the "
            "emergency interconnector with the neighbouring Orrin Delta Water Board into use for the first time. "
            "The interconnector can move up to 6 megalitres per day in either direction, and the cooperative "
            "imported water through it for 23 days.",
            "The drought plan will be revised in 2032 to add a Stage 1 voluntary appeal, so that customers are "
            "asked to save water earlier before formal restrictions become necessary.",
        ]),
        ("Outlook for 2032", [
            "The board has approved three priorities for 2032. First, construction will begin on the enlargement of "
            "Halloran Basin, which will add 1,900 megalitres of storage by 2035. Second, smart meters will be fitted "
            "to 12,000 homes, starting in Pellory and Wyecross. Third, the tariff increase for 2032 will be capped "
            "at 3%.",
            "The cooperative will also begin a public consultation on a scheme to give discounted tariffs to "
            "households on low incomes. Members will vote on the scheme at the 2032 annual general meeting.",
            "The board thanks all staff, contractors and members for their patience during the summer restrictions, "
            "and in particular the crews who worked through the February turbidity event to keep supplies flowing.",
        ]),
    ],
}

# ---------------------------------------------------------------------------
# Document 2: html
# ---------------------------------------------------------------------------
RAIL = {
    "file": "tarnowe_rail_review.html",
    "title": "Tarnowe Regional Rail: 2031 Timetable Review",
    "sections": [
        ("Purpose of the Review", [
            "The Tarnowe Regional Transport Council commissioned this review to decide how the regional rail "
            "timetable should change from 2032. The last full review was carried out in 2024, before several new "
            "housing districts opened around Port Alwyn and Keswin Junction.",
            "The review panel was chaired by Imre Castellane, a former operations director of the network, and "
            "included passenger representatives, two council members and an independent timetable planner. A "
            "public consultation ran from January to April 2031 and received 2,847 responses, more than three "
            "times the number received in 2024.",
            "This document summarises the panel's findings and recommendations. Final decisions rest with the "
            "council.",
        ]),
        ("Network at a Glance", [
            "The network has five lines serving 63 stations over 412 km of route. The table below lists each line "
            "with its termini, number of stations and current number of trains on a normal weekday.",
            {"table": [
                ["Line", "Map colour", "Termini", "Stations", "Weekday trains"],
                ["Sennet Line", "Blue", "Port Alwyn to Drummel Ford", "14", "58"],
                ["Marrow Line", "Green", "Port Alwyn to Keswin Junction", "11", "44"],
                ["Orrin Coast Line", "Orange", "Keswin Junction to Saltmere", "16", "36"],
                ["Highfold Line", "Red", "Tarnowe Central to Highfold", "12", "40"],
                ["Miravel Branch", "Purple", "Keswin Junction to Lanthorpe", "10", "22"],
            ]},
            "Keswin Junction is the main interchange, where three lines meet. Tarnowe Central is the busiest "
            "station but is served by only one line, and many passengers change there to buses for the city "
            "centre.",
        ]),
        ("Ridership Trends", [
            "Passengers made 21.4 million journeys on the network in 2030, an increase of 6.2% on 2029 and the "
            "highest figure on record. Growth was strongest on the Sennet Line, where the new Alwyn Quays housing "
            "district added about 4,000 daily journeys.",
            "Tarnowe Central recorded 4.9 million entries and exits, followed by Port Alwyn with 3.6 million. The "
            "Miravel Branch remains the quietest line, with 0.8 million journeys, although its traffic more than "
            "doubles during the autumn fruit harvest when visitors travel to the plateau orchards.",
            "Off-peak travel grew faster than peak travel for the third year running. The panel believes this "
            "reflects more people working from home on some days and making leisure trips instead.",
            "Season-ticket holders made 31% of all journeys, a smaller share than before the pandemic years, while "
            "concession travel by older passengers and students returned to its earlier level. The council's "
            "forecast, prepared by the planning office in Tarnowe, expects journeys to reach 24 million by 2035 if "
            "the recommended timetable changes are made.",
        ]),
        ("Punctuality and Reliability", [
            "In 2030, 91.3% of trains arrived within five minutes of the scheduled time, and 1.8% of planned trains "
            "were cancelled. Punctuality was best on the Highfold Line at 95.1%.",
            "The worst-performing line was the Orrin Coast Line, where only 84.7% of trains were on time. The main "
            "cause was a permanent speed restriction near Gullet Point, where coastal erosion has undermined the "
            "embankment. Until the sea wall there is rebuilt, trains must slow to 30 km/h for a 2 km stretch, "
            "adding four minutes to each journey.",
            "The panel recommends that the timetable for the Orrin Coast Line should be rewritten to include the "
            "extra four minutes, so that the published times are realistic, rather than waiting for the sea wall "
            "works to finish in 2034.",
        ]),
        ("Proposed Timetable Changes", [
            "The panel recommends running Sennet Line trains every 15 minutes at peak times, instead of every 20 "
            "minutes, to meet the growth at Alwyn Quays. This would raise the Sennet Line to 72 weekday trains.",
            "A new late-evening service is proposed on the Marrow Line, with the last departure from Port Alwyn "
            "moved from 22:55 to 23:40. Consultation responses showed strong support from hospital and hospitality "
            "workers who finish late shifts.",
            "On the Miravel Branch, the panel proposes Saturday harvest specials during September and October, "
            "running every 30 minutes between Keswin Junction and Lanthorpe. On the Highfold Line no changes are "
            "proposed, as the current pattern is already well used and reliable.",
        ]),
        ("Rolling Stock", [
            "The network operates a fleet of 74 units. The newest are the class 440 units, known as Kestrels, which "
            "entered service in 2027 and now work most Sennet and Marrow Line trains.",
            "The council has ordered 12 battery-electric class 510 units from the Halvard Works for delivery in "
            "2033, at a total cost of 96 million crowns. They will replace diesel trains on the Miravel Branch and "
            "the Orrin Coast Line, neither of which is electrified. The units can run 85 km on battery power and "
            "recharge under the overhead wires between Keswin Junction and Port Alwyn.",
            "Until the new units arrive, the oldest diesel trains will receive a life-extension overhaul at the "
            "Keswin depot.",
            "The depot itself will need changes before the battery units arrive. A new charging shed with four "
            "roads is planned on the site of the old goods yard, and the depot staff of 140 will receive training "
            "on high-voltage battery systems during 2032 and 2033.",
        ]),
        ("Fares and Ticketing", [
            "Single fares are based on distance, but no single peak journey costs more than 9.50 crowns. The "
            "Tarnowe Pass, a monthly ticket for unlimited travel, costs 118 crowns, and about 38,000 passes are "
            "sold each month.",
            "Contactless payment was introduced on all lines in 2030. It now accounts for 46% of all journeys, and "
            "daily capping means that nobody pays more than the price of a day return. The panel recommends keeping "
            "fares frozen in 2032, but it notes that this decision belongs to the council's budget process.",
        ]),
        ("Accessibility", [
            "Step-free access from street to platform is available at 41 of the 63 stations. The council's target "
            "is for every station to be step-free by 2036.",
            "Works completed in 2031 include a new lift at Lanthorpe station, which serves visitors to the Miravel "
            "Plateau, and a level footbridge at Keswin Junction. The next stations in the programme are Saltmere "
            "and Highfold.",
            "The panel also recommends that audio and visual announcements should be installed on all class 510 "
            "units from the start, rather than fitted later.",
        ]),
        ("Consultation Themes", [
            "The panel grouped the 2,847 consultation responses into themes. The most common request, made in 1,120 "
            "responses, was for more frequent trains at peak times, especially on the Sennet Line. The second most "
            "common theme was later evening trains, raised in 640 responses.",
            "Other recurring themes were crowding on the two-car trains used on the Orrin Coast Line in summer, the "
            "lack of seating and shelter at smaller stations, and the difficulty of connecting between trains and "
            "buses at Keswin Junction, where the bus station lies a ten-minute walk from the platforms.",
            "A small number of responses asked for the Miravel Branch to be closed and replaced by buses. The panel "
            "does not support this, noting the branch's value for visitors to the plateau and the planned arrival "
            "of battery trains.",
        ]),
        ("Next Steps", [
            "The council will consider the panel's recommendations at its meeting on 2 December 2031. If they are "
            "approved, the new timetable will take effect on 18 May 2032, the regular date for the spring timetable "
            "change.",
            "A summary of consultation responses, with personal details removed, will be published alongside the "
            "council papers.",
            "If the council approves only part of the package, the panel advises that the Sennet Line frequency "
            "increase should take priority, because it addresses the largest group of passengers and can be "
            "delivered with the existing fleet. The late Marrow Line service and the harvest specials depend on "
            "agreeing extra crew hours with the staff unions, which the operator expects to conclude by March 2032.",
            "The panel thanked the passengers, staff and community groups who took part, and in particular the "
            "volunteers of the Tarnowe Rail Users' Forum, who ran consultation stalls at twelve stations.",
        ]),
    ],
}

# ---------------------------------------------------------------------------
# Document 3: pdf
# ---------------------------------------------------------------------------
ORCHARD = {
    "file": "miravel_orchards_guide.pdf",
    "title": "A Field Guide to the Orchards of the Miravel Plateau",
    "sections": [
        ("Introduction", [
            "The Miravel Plateau rises between 640 and 910 metres above sea level to the east of Keswin Junction. "
            "Around 3,200 hectares of its gentle slopes are planted with fruit trees, most of them apples, and the "
            "landscape of hedged orchards and stone barns has changed little in a century.",
            "Most growers belong to the Miravel Growers' Guild, which was founded in 1921 to market fruit jointly "
            "and to keep a register of local varieties. This guide was compiled for the Guild by the pomologist "
            "Henrietta Quarles, who has recorded the plateau orchards for more than thirty years.",
            "The guide is intended for visitors, walkers and anyone interested in traditional fruit growing. It "
            "describes the climate, the main varieties, the harvest season and the ways in which the orchards can "
            "be visited.",
        ]),
        ("History of the Guild", [
            "The Guild was formed after a poor season in 1920, when growers selling separately at the Tarnowe "
            "markets were forced to accept very low prices. Forty-three growers signed its first charter, agreeing "
            "to grade their fruit to a common standard and to sell under a single mark.",
            "In 1936 the Guild opened a packing house beside the railway at Lanthorpe, and for the next thirty years "
            "most of the plateau's apples left by goods train. The packing house closed in 1969, and the building "
            "is now a community hall where the Guild holds its annual meeting.",
            "The Guild's variety register was started in 1952 by the grower Edmund Hawtree, who travelled from farm "
            "to farm recording old trees before they were felled. The register now lists 214 varieties, of which 61 "
            "are thought to exist nowhere else.",
        ]),
        ("Climate and Soils", [
            "The plateau receives about 780 mm of rain in an average year, spread fairly evenly across the seasons. "
            "There are about 168 frost-free days, which is enough for late-ripening apples but too few for peaches "
            "or apricots.",
            "The soils are a deep volcanic loam, locally called red Miravel loam because of its rusty colour. The "
            "soil drains well and holds nutrients, but it can dry out in hot summers, so many orchards have planted "
            "clover between the rows to keep moisture in the ground.",
            "The greatest danger to the crop is a late frost in the middle of April, when the blossom is open. "
            "Growers on the highest slopes light small heaters on frosty nights, and the Guild runs a telephone "
            "warning service that alerts members when the temperature is forecast to fall below minus two degrees.",
        ]),
        ("Principal Apple Varieties", [
            "More than sixty apple varieties grow on the plateau, but four account for most of the crop.",
            "Lanthorpe Russet is the oldest, first recorded in the 1840s in a garden in the village of Lanthorpe. "
            "It has rough golden-brown skin and a nutty flavour that improves after a few weeks in store.",
            "Golden Vesper is an early dessert apple picked from the last week of August. It is sweet and juicy but "
            "keeps for only a few weeks, so most of the crop is sold at markets in Tarnowe.",
            "Visitors who want to compare varieties can do so at the Guild's trial orchard near Corran, which grows "
            "two trees of every variety on the register and holds a tasting day each October.",
            "Quarrystone Pippin is a sharp, firm apple that is valued for cider and for cooking. Its trees are "
            "vigorous and resistant to scab, which makes them popular with organic growers.",
            "Brightwater Red is the most widely planted modern variety. It was bred at the Guild's trial orchard in "
            "1978 from a cross between Lanthorpe Russet and an imported red apple, and it accounts for about a third "
            "of the plateau's dessert fruit.",
        ]),
        ("Pears and Stone Fruit", [
            "Pears are grown on the sheltered lower slopes, where frost is less severe. The most famous local pear is "
            "the Abbot Selwyn, a long, yellow fruit with a buttery texture that is traditionally poached in cider.",
            "The Miravel Damson, a small dark plum with a strong sour taste, is found in almost every hedgerow. It is "
            "rarely eaten raw but is prized for jam and for a plum liqueur made by several farms.",
            "Cherries are grown only in a few orchards near the village of Corran, where a south-facing escarpment "
            "gives extra warmth. The cherry harvest in early July is the first fruit harvest of the year on the "
            "plateau.",
        ]),
        ("The Harvest Calendar", [
            "The fruit year begins with cherries in early July and continues with plums in August. The apple "
            "harvest starts with Golden Vesper in late August and reaches its peak in the last two weeks of "
            "September, when Brightwater Red and Quarrystone Pippin are picked. Lanthorpe Russet is usually the last "
            "variety to be harvested, in mid October.",
            "Many farms still rely on seasonal pickers, and the Guild runs a hiring office in Lanthorpe from August "
            "to October. About 1,400 pickers are employed at the height of the season.",
            "The end of the harvest is marked by Lantern Night, held on the first Saturday of October in the village "
            "square of Lanthorpe. Growers hang lanterns in the trees of the old village orchard, and the first cider "
            "of the year is poured for visitors.",
        ]),
        ("Pests and Orchard Health", [
            "The most serious pests are codling moth, whose caterpillars tunnel into the fruit, and the fungal "
            "disease apple scab, which marks the skin and weakens the trees.",
            "Since 2024 the Guild has run an integrated pest programme that uses pheromone traps to time spraying "
            "precisely and encourages natural predators. Members taking part have reduced their spraying by 37% "
            "without any loss of crop quality.",
            "Barn owls help control the voles that damage tree roots. The Guild has installed 1,150 owl boxes across "
            "the plateau, and surveys in 2030 found that about half of them were occupied.",
        ]),
        ("Visiting the Orchards", [
            "Twenty-two orchards welcome visitors, and most of them sell fruit and juice at the farm gate. A map of "
            "open orchards is available from the Guild visitor centre at Corran Mill, which is open from Wednesday "
            "to Sunday between April and November.",
            "The easiest way to reach the plateau without a car is by train to Lanthorpe station, the terminus of "
            "the branch line from Keswin Junction. From the station, a waymarked footpath called the Russet Way "
            "leads through six orchards to Corran Mill in about two hours.",
            "Visitors are asked to keep dogs on leads, to close gates and not to pick fruit without permission. "
            "Guided orchard walks led by Guild members run every Sunday at eleven o'clock during the harvest.",
        ]),
        ("Cider and Preserves", [
            "Nine cideries operate on the plateau, ranging from a single farm press to the cooperative cider house "
            "at Corran. The Guild Cider Trail links all nine over a route of 34 km that can be cycled in a day.",
            "In 2028 the name Miravel Plateau Cider was given protected designation, which means it can only be used "
            "for cider made from apples grown on the plateau and pressed there. At least a quarter of the apples in "
            "each batch must be traditional varieties from the Guild register.",
            "Preserves are an important sideline for many farms. Damson jam, pear chutney and apple butter are sold "
            "at farm shops and at the Saturday market in Lanthorpe.",
            "Most cideries offer tastings, but visitors should check opening times in advance, as the smaller farm "
            "presses open only at weekends. The Corran cider house runs tours of its cellars on Saturday afternoons, "
            "where visitors can see the oak vats in which the traditional dry cider is matured for at least six "
            "months before bottling.",
            "Henrietta Quarles recommends that visitors taste cider made from a single variety alongside a blended "
            "cider, to understand how much the character of each apple contributes to the final drink.",
        ]),
    ],
}

# ---------------------------------------------------------------------------
# Document 4: markdown
# ---------------------------------------------------------------------------
FESTIVAL = {
    "file": "saltmere_festival_notes.md",
    "title": "Saltmere Tide and Lantern Festival: Planning Committee Notes, June 2031",
    "sections": [
        ("Attendance and Apologies", [
            "The planning committee met on 9 June 2031 in the reading room of the Saltmere Harbour Library. The chair, "
            "Åsa Brønnick, opened the meeting at 18:30. Eleven members were present, including the treasurer Józef "
            "Żelazny-Hart, the volunteer coordinator Chiara Mäkelä-Ruiz and the safety officer Björn Oyelaran.",
            "Apologies were received from Desmond Okafor-Lye, who represents the harbour traders, and from the "
            "council's events officer. The notes of the May meeting were agreed without changes.",
            "The chair welcomed a new member, Tomasz Ørsted-Quaye, who joins the committee on behalf of the "
            "Saltmere lifeboat crew. The lifeboat station is the starting point of the tide procession, and the crew "
            "have helped with the event for many years without being formally represented.",
        ]),
        ("Review of the 2030 Festival", [
            "Chiara Mäkelä-Ruiz presented the review of last year's festival. An estimated 18,600 people attended "
            "over the three days, up from 15,200 in 2029, and there were 64 market stalls along the harbour front.",
            "Visitor feedback was mostly positive, but the survey showed two main complaints: long queues for "
            "toilets on the Saturday evening, and the lack of shelter when heavy rain fell on the second day. "
            "Traders said the rain cut their takings by about a third that afternoon.",
            "The committee agreed that the number of portable toilets should be increased from 30 to 44, and that "
            "a large marquee should be hired for the harbour green as a wet-weather refuge.",
            "Stall holders also asked for the market to open earlier on the Sunday. After discussion the committee "
            "agreed to move the Sunday opening from 11:00 to 10:00, and to close at 17:00 as before, so that traders "
            "have time to pack up before the evening tide.",
        ]),
        ("Budget for 2031", [
            "Józef Żelazny-Hart presented the budget, shown below in Kelvran crowns alongside last year's actual "
            "spending.",
            {"table": [
                ["Item", "2030 actual", "2031 budget"],
                ["Stage and sound", "14,800", "16,500"],
                ["Security and stewarding", "9,200", "11,000"],
                ["Marketing", "6,400", "5,900"],
                ["Volunteer costs", "3,100", "3,600"],
                ["Contingency", "2,000", "4,000"],
                ["Total", "35,500", "41,000"],
            ]},
            "The festival has been awarded a grant of 12,000 crowns from the Tarnowe Regional Arts Fund, the largest "
            "grant in its history. The remaining costs will be met from stall fees and local sponsorship. The "
            "contingency was doubled after last year's weather, and marketing was reduced because social media "
            "advertising proved cheaper than printed posters.",
        ]),
        ("Programme for 2031", [
            "The festival will run from Friday 25 July to Sunday 27 July 2031. The headline act on the harbour stage "
            "on Saturday night will be the Gullet Point Brass Ensemble, a twenty-piece band from the next village up "
            "the coast.",
            "The traditional tide procession will take place on the Saturday at high tide, which falls at 21:12. "
            "Children carry paper boats and lanterns from the lifeboat station to the end of the harbour wall, where "
            "the boats are launched on the turning tide.",
            "A lantern-making workshop for families will be led by the artist Ngaio Fairweather-Ilić in the library "
            "on the Friday and Saturday afternoons. The Sunday programme will include a seafood cookery contest and "
            "a cider bar run by the Miravel Growers' Guild.",
        ]),
        ("Transport and Access", [
            "Most visitors arrive by train on the Orrin Coast Line. The committee will ask the rail operator to run "
            "extra trains on the Saturday evening, with a last departure from Saltmere after the procession ends.",
            "A shuttle bus will run between Keswin Junction and the harbour every 20 minutes throughout the "
            "festival. Car parking will be provided at Saltmere Quarry field, which holds 450 cars, with a "
            "walking route to the harbour marked by volunteers.",
            "The committee noted that Saltmere station is not yet step-free. Volunteers will be stationed there "
            "on all three days to help passengers with pushchairs, wheelchairs or heavy luggage.",
        ]),
        ("Safety and Stewarding", [
            "Björn Oyelaran reported that 72 stewards will be on duty at peak times, all of whom must attend a "
            "briefing on the Thursday evening. First aid will be provided by the Saltmere Volunteer Rescue team, "
            "who will have a treatment tent beside the lifeboat station.",
            "The harbour wall will have a capacity limit of 2,500 people during the tide procession, enforced with "
            "counting clickers at the two entry points. If the limit is reached, stewards will direct people to the "
            "viewing area on the beach instead.",
            "Björn Oyelaran also reminded the committee that the event safety plan must be submitted to the council "
            "at least 28 days before the festival opens.",
            "Lost children will be taken to the information tent, which will be staffed at all times by two "
            "volunteers with safeguarding training. Radios will be issued to all stewards, and a single radio "
            "channel will be reserved for the safety officer and the first aid team.",
        ]),
        ("Sustainability", [
            "The festival will introduce a reusable cup scheme, with a deposit of 2 crowns per cup refunded when the "
            "cup is returned. The committee set a target of diverting 80% of festival waste from landfill, compared "
            "with an estimated 55% in 2030.",
            "Free drinking water refill stations will be supplied by the Orrin Delta Water Board, which has agreed to "
            "lend two mobile water bowsers for the weekend. Traders will be asked to avoid single-use plastic "
            "packaging wherever possible.",
            "Food waste from the stalls will be collected separately and taken to the composting site at Brenlow "
            "Farm, a few kilometres inland. Litter pickers will sort the bins on the harbour front twice a day, and "
            "the committee will publish the final recycling figures after the festival.",
        ]),
        ("Volunteers", [
            "Chiara Mäkelä-Ruiz reported that 96 volunteers have signed up so far, compared with 88 at the same point "
            "last year. Volunteers help with stewarding, the information tent, litter picking and the children's "
            "activities on the harbour green.",
            "Each volunteer will receive a festival T-shirt, a meal voucher for every shift of four hours or more and "
            "free entry to the Saturday night concert. Volunteers under 18 must work alongside an adult and may not "
            "work after 21:00.",
            "The committee agreed to hold a thank-you evening for volunteers in September, funded from the volunteer "
            "costs line of the budget. Members also suggested that long-serving volunteers should be recognised, and "
            "the chair proposed a small award for anyone who has helped at ten or more festivals.",
        ]),
        ("Communications and Marketing", [
            "The marketing plan for 2031 relies mainly on social media and on posters at railway stations along the "
            "Orrin Coast Line and at Keswin Junction. A printed programme will still be produced, but the print run "
            "will fall from 8,000 copies to 5,000.",
            "A new festival website will launch on 1 July with the full programme, a map of the harbour and travel "
            "information. The local radio station has agreed to broadcast live from the harbour stage for two hours "
            "on the Saturday evening.",
            "Desmond Okafor-Lye had asked, in his written apology, that the harbour traders should be listed on the "
            "website. The committee agreed, provided that each trader supplies a short description and a photograph "
            "by 10 July.",
        ]),
        ("Actions and Next Meeting", [
            "The following actions were agreed. Åsa Brønnick will write to the rail operator about extra trains. "
            "Józef Żelazny-Hart will confirm the arts fund grant conditions. Chiara Mäkelä-Ruiz will recruit "
            "another 15 stewards. Björn Oyelaran will submit the safety plan.",
            "Tomasz Ørsted-Quaye will confirm the timing of the procession with the lifeboat crew and the harbour "
            "master, and Desmond Okafor-Lye will be asked to collect trader descriptions for the website.",
            "Any other business: a member raised the idea of a fireworks display on the Sunday night. The committee "
            "decided against it for 2031 because of the cost and the disturbance to nesting seabirds on the harbour "
            "cliffs, but agreed to look at a drone light show as an alternative for 2032.",
            "The next meeting will be held on 7 July 2031 at the same venue. The meeting closed at 20:05.",
        ]),
    ],
}

DOCS = [WATER, RAIL, ORCHARD, FESTIVAL]


def make_docx(d, path):
    import docx
    document = docx.Document()
    cp = document.core_properties
    import datetime
    fixed = datetime.datetime(2031, 10, 1, 12, 0, 0)
    cp.created = fixed
    cp.modified = fixed
    cp.last_modified_by = "make_docs.py"
    cp.author = "make_docs.py"
    document.add_heading(d["title"], level=0)
    for head, items in d["sections"]:
        document.add_heading(head, level=1)
        for it in items:
            if isinstance(it, str):
                document.add_paragraph(it)
            else:
                rows = it["table"]
                t = document.add_table(rows=len(rows), cols=len(rows[0]))
                t.style = "Table Grid"
                for i, r in enumerate(rows):
                    for j, c in enumerate(r):
                        t.cell(i, j).text = c
    document.save(path)
    # rewrite zip with fixed timestamps so output is byte-deterministic
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, date_time=(2031, 10, 1, 12, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)


def make_html(d, path):
    e = html.escape
    out = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
           f"<title>{e(d['title'])}</title>", "</head>", "<body>", f"<h1>{e(d['title'])}</h1>"]
    for head, items in d["sections"]:
        out.append(f"<h2>{e(head)}</h2>")
        for it in items:
            if isinstance(it, str):
                out.append(f"<p>{e(it)}</p>")
            else:
                rows = it["table"]
                out.append("<table border=\"1\">")
                out.append("<tr>" + "".join(f"<th>{e(c)}</th>" for c in rows[0]) + "</tr>")
                for r in rows[1:]:
                    out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
                out.append("</table>")
    out += ["</body>", "</html>"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out) + "\n")


def make_pdf(d, path):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from xml.sax.saxutils import escape
    body = ParagraphStyle("body", fontName="Helvetica", fontSize=10.5, leading=14, spaceAfter=6)
    head = ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=13, leading=17, spaceBefore=10, spaceAfter=4)
    title = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=17, leading=22, spaceAfter=12)
    doc = SimpleDocTemplate(path, pagesize=A4, title=d["title"], author="make_docs.py", invariant=1)
    story = [Paragraph(escape(d["title"]), title)]
    for h, items in d["sections"]:
        story.append(Paragraph(escape(h), head))
        for it in items:
            assert isinstance(it, str)
            story.append(Paragraph(escape(it), body))
        story.append(Spacer(1, 4))
    doc.build(story)


def make_md(d, path):
    out = [f"# {d['title']}", ""]
    for head, items in d["sections"]:
        out += [f"## {head}", ""]
        for it in items:
            if isinstance(it, str):
                out += [it, ""]
            else:
                rows = it["table"]
                out.append("| " + " | ".join(rows[0]) + " |")
                out.append("|" + "---|" * len(rows[0]))
                for r in rows[1:]:
                    out.append("| " + " | ".join(r) + " |")
                out.append("")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(out))


def main():
    os.makedirs(OUT, exist_ok=True)
    make_docx(WATER, os.path.join(OUT, WATER["file"]))
    make_html(RAIL, os.path.join(OUT, RAIL["file"]))
    make_pdf(ORCHARD, os.path.join(OUT, ORCHARD["file"]))
    make_md(FESTIVAL, os.path.join(OUT, FESTIVAL["file"]))
    for d in DOCS:
        words = 0
        for _, items in d["sections"]:
            for it in items:
                words += len(it.split()) if isinstance(it, str) else sum(len(" ".join(r).split()) for r in it["table"])
        print(f"{d['file']}: {len(d['sections'])} sections, ~{words} words")


if __name__ == "__main__":
    main()
