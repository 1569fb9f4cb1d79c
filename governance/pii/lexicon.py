"""Name lexicons (plain data, no Presidio import: the operators use them too)."""

# The most common surnames of mainland China, Taiwan and Hong Kong (covering the great majority of people),
# in Simplified and Traditional forms, and the common compound surnames.
COMMON_SURNAMES = (
    "王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何林罗羅高郑鄭梁谢謝宋唐许許韩韓冯馮邓鄧曹彭曾肖蕭田董袁潘"
    "于蒋蔣蔡余杜叶葉程苏蘇魏吕呂丁任沈姚卢盧姜崔钟鍾谭譚陆陸汪范金石廖贾賈夏韦韋付方白邹鄒孟熊秦邱江尹薛闫閆段雷"
    "侯龙龍史陶黎贺賀顾顧毛郝龚龔邵万萬钱錢严嚴覃武戴莫孔向汤湯常温溫康施文牛樊葛邢安齐齊易乔喬伍庞龐颜顏倪庄莊"
    "聂聶章鲁魯岳翟殷詹申欧歐耿关關兰蘭焦俞左柳甘祝包宁寧尚符舒阮柯纪紀梅童凌毕畢单單季裴霍涂塗成苗谷盛曲翁冉骆駱"
    "蓝藍路游辛靳管柴蒙鲍鮑华華喻祁蒲房滕屈饶饒解牟艾尤阳陽时時穆农農司卓古吉缪繆简簡车車项項连連芦蘆麦麥褚娄婁窦竇"
    "戚岑景党黨宫宮费費卜冷晏席卫衛米柏宗瞿桂全佟应應臧闵閔苟邬鄔边邊卞姬师師和仇栾欒隋商刁沙荣榮巫寇桑郎甄丛叢仲"
    "虞敖巩鞏明佘池查麻苑迟遲邝鄺官封谈談匡鞠惠荆荊乐樂冀郁胥南班储儲原栗燕楚鄢劳勞谌諶奚皮粟冼蔺藺楼樓盘盤"
)
# Less common surnames (still millions of people each); characters that are mostly ordinary words (国, 海, 强,
# 来, 都…) are left out. Recognizers use both lists; pseudonyms draw from the common list only (stable output).
RARER_SURNAMES = ("萧傅阎赖賴洪闻聞厉厲伊郜阚闞权權帅帥屠朴盖蓋练練廉禹井祖漆巴丰卿狄平计計索宣晋晉初云容敬芮鹿薄邸雍"
                  "辜裘修邰赫杭宿印逯茹诸諸慕嵇湛戎茅尉檀衣阴陰昝幸植衡富尧堯阙闕鐘凃粘丘籃留鄞龎")
SURNAMES = COMMON_SURNAMES + RARER_SURNAMES
COMPOUND_SURNAMES = ("張簡", "张简", "范姜", "欧阳", "歐陽", "司马", "司馬", "上官", "诸葛", "諸葛", "东方", "東方", "皇甫", "令狐", "慕容",
                     "司徒", "夏侯", "长孙", "長孫", "尉迟", "尉遲", "公孙", "公孫", "端木", "宇文", "轩辕", "軒轅")
