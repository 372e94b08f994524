package ruleset

// commonWords are everyday English words that contain short offensive or
// violent terms (the Scunthorpe problem). Validation rejects a substring
// term found inside one of them unless the rule lists the word under
// exceptions. Curated by hand; extend it when a false positive is reported.
const commonWords = `
about above accept account across act action address after again against age
ago agree air all allow also always among analysis analyst analyze and animal
another answer any anyone appear apple area arm around arrive art as ask assassin
assassinate assassination assemble assembly assess assessment asset assets assign
assist assistant associate association assume assumption at attack attend
attention baby back bad bag ball bank bar base basement bass bassist be beat
beautiful because become bed before begin behind believe best better between big
bill bird bit black blood blue board boat body book born both box boy brass
bring brother build building business but buy by call came camera campaign can
canal cancel cancer capital car card care career carry case cassette cat catch
cause center central century certain chair challenge chance change charge check
child choice choose church circle city class classic classroom clear close
cockpit cocktail cockroach cold come common community company compass compassion
computer concern condition consider contain continue control cook cool cost
could country couple course court cover create crime cucumber culture cup
current dance dark data daughter day dead deal death debate decide deep defense
describe design detail develop diagnosis dick dickens die different dinner
direction discover discuss disease do doctor document dog door down draw
dream drive drop during each early east easy eat economy edge effect effort
eight either election else embarrass embassy employee end energy enjoy enough
enter entire environment especially establish evening event every everyone
evidence exactly example expert explain eye face fact fail fall family far
farm fast father fear feel few field fight figure fill film final finally
financial find fine finger finish fire firm first fish five floor fly focus
follow food foot for force forget form forward four free friend from front
full fun future game garden gas general generation get girl give glass go goal
good government grape grass great green ground group grow growth guess gun guy
hair half hand hang happen happy hard harass harassment hard have he head
health hear heart heat heavy hell hello help her here herself high him himself
his history hit hold home hope hospital hot hotel hour house how however huge
human hundred husband idea identify if image imagine impact important improve
in include increase indeed indicate individual industry information inside
instead institution interest international into investment involve issue it
item its itself job join just keep key kid kill kind kitchen know knowledge
land language large lass last late later laugh law lawyer lay lead learn least
leave left leg legal less let letter level lie life light like likely line
list listen little live local long look lose loss lot love low machine
magazine main maintain major make man manage manager manuscript many market
marriage mass massive massage material matter may maybe me mean measure media
medical meet meeting member memory mention message method middle might
military million mind minute miss mission model modern moment money month more
morning most mother mouth move movement movie much music must my myself name
nation national natural nature near nearly necessary need network never new
news newspaper next nice night no none nor north not note nothing notice now
number occur of off offer office officer official often oh oil ok old on once
one only onto open operation opportunity option or order organization other
others our out outside over own owner page pain painting paper parent part
participant particular party pass passage passenger passion passive password
past patient pattern pay peace peacock penalty people per perform performance
perhaps period person personal phone physical pick picture piece place plan
plant play player point police policy political politics poor popular
population position positive possible power practice prepare present
president pressure pretty prevent price private probably problem process
produce product production professional professor program project property
protect prove provide public pull purpose push put quality question quickly
quite race radio raise range rape rapid rapidly rate rather reach read ready
real reality realize really reason receive recent recently recognize record red
reduce reflect region relate relationship religious remain remember remove
report represent republican require research resource respond response
responsibility rest result return reveal rich right rise risk road rock role
room rule run safe same save say scene school science scientist score
scrape scunthorpe sea season seat second section security see seek seem sell
send senior sense series serious serve service set seven several sex sexual
shake share she shell shitake shoot short shot should shoulder show side sign
significant similar simple simply since sing single sister sit site situation
six size skill skin slaughter small smile so social society soldier some
somebody someone something sometimes son song soon sort sound source south
southern space sparse speak special specific speech spend sport spring staff
stage stand standard star start state statement station stay step still stock
stop store story strategy street strong structure student study stuff style
subject success successful such suddenly suffer suggest summer support sure
surface system table take talk task tax teach teacher team technology
television tell ten tend term test than thank that the their them themselves
then theory therapist there these they thing think third this those though
thought thousand threat three through throughout throw thus time title to
today together tonight too top total tough toward town trade traditional
training travel treat treatment tree trial trip trouble true truth try turn
tv two type under understand unit until up upon us use usually value various
very victim view violence visit voice vote wait walk wall want war watch water
way we weapon wear week weight well west western what whatever when where
whether which while white who whole whom whose why wide wife will win wind
window wish with within without woman wonder word work worker world worry would
write writer wrong yard yeah year yes yet you young your yourself
`
