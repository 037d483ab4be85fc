"""Words for `flask seed-scale`: names of people and places, and the notes
staff and residents write — fixed vocabularies, so the synthetic city reads
like a real one and every text is safe to bulk-load as it is."""

import json
from datetime import date
from random import Random

from app.services.idcard import check_digit

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫")
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国建华志强文杰海燕晓燕"
    "桂兰淑珍凤英玉梅德明春华秋菊冬梅雪梅宏伟志勇浩然子涵欣怡梓萱一诺宇轩俊杰思远佳怡雨涵"
)
ELDER_GIVEN = ("桂英", "秀兰", "淑芬", "玉兰", "凤英", "德福", "树林", "长顺", "金山", "福生", "桂珍", "素梅")

STREET_WORDS = [
    "幸福",
    "和平",
    "光明",
    "东山",
    "西湖",
    "南岭",
    "北辰",
    "海滨",
    "青松",
    "翠竹",
    "长安",
    "新华",
    "人民",
    "建设",
    "朝阳",
    "文化",
    "春风",
    "金桥",
    "银河",
    "龙山",
    "环翠",
    "竹岛",
    "鲸园",
    "怡园",
    "田和",
    "皇冠",
    "凤林",
    "西苑",
    "张村",
    "羊亭",
    "孙家疃",
    "温泉",
    "桥头",
    "港湾",
    "嵩山",
    "望岛",
    "古寨",
    "塔山",
    "杨家滩",
    "双岛",
]
COMMUNITY_WORDS = [
    "阳光",
    "和谐",
    "康乐",
    "福寿",
    "锦绣",
    "紫薇",
    "丁香",
    "海韵",
    "松涛",
    "枫林",
    "桃园",
    "梨园",
    "柳岸",
    "荷花",
    "兰亭",
    "华庭",
    "育才",
    "书香",
    "安居",
    "乐业",
    "长青",
    "永安",
    "吉祥",
    "如意",
    "祥和",
    "瑞丰",
    "丰泽",
    "润泽",
    "明珠",
    "金沙",
    "银滩",
    "海景",
    "山水",
    "碧水",
    "清泉",
    "翠湖",
    "玉龙",
    "凤凰",
    "麒麟",
    "鹿鸣",
    "鹤鸣",
    "百合",
    "芙蓉",
    "牡丹",
    "海棠",
    "梧桐",
    "银杏",
    "香樟",
    "红枫",
    "青竹",
    "白鹭",
    "黄鹂",
    "杏林",
    "春晖",
]
TEAM_WORDS = [
    "银发关爱",
    "青春助学",
    "巧手维修",
    "邻里帮帮",
    "暖心陪伴",
    "夕阳红",
    "爱心助餐",
    "健康护航",
    "党员先锋",
    "巾帼志愿",
    "红马甲",
    "小橙帽",
    "手拉手",
    "心连心",
    "向日葵",
    "蒲公英",
    "萤火虫",
    "彩虹桥",
    "连心桥",
    "同心圆",
]
MOTTOS = ("多走一步，多陪一会儿", "邻里守望，温暖你我", "小事做起，贵在坚持", "有事您说话", "用心服务每一户")
PARTNER_KINDS = {
    "MERCHANT": ("超市", "便利店", "理发店", "药店", "粮油店", "书店", "水果店", "面馆"),
    "CHARITY": ("慈善会", "爱心基金会"),
    "SOCIAL_WORK": ("社工服务中心", "养老服务中心"),
    "COMPANY": ("物业公司", "电器维修公司"),
}
# (name, description, price in points)
REWARDS = (
    ("理发券", "社区理发店单次理发", 60),
    ("大米5斤", "东北大米一袋（5斤）", 120),
    ("食用油", "花生油一桶（1.8升）", 200),
    ("鸡蛋一盒", "新鲜鸡蛋30枚", 80),
    ("洗衣液", "洗衣液一瓶（2千克）", 70),
    ("牙膏套装", "牙膏两支、牙刷两把", 40),
    ("面条礼包", "挂面五包", 50),
    ("电影票", "社区影院观影券一张", 150),
    ("体检券", "合作诊所基础体检一次", 300),
    ("图书一本", "书店任选一本（50元以内）", 180),
    ("水果券", "水果店20元代金券", 100),
    ("家电清洗", "空调或油烟机清洗一次", 260),
)

NEEDS = {
    "housekeeping": ("厨房和卫生间需要打扫", "换季衣物整理", "每周一次家务帮忙", "窗户和纱窗清洗"),
    "tutoring": (
        "孩子初二，数学需要辅导",
        "小学三年级课后作业辅导",
        "英语跟不上，需要辅导",
        "初三备考，物理需要帮助",
    ),
    "haircut": ("老人行动不便，需要上门理发", "需要上门修脚", "每月一次上门理发"),
    "repairs": ("卫生间水管漏水", "厨房灯不亮，需要换灯管", "燃气灶打不着火", "插座松动需要更换", "门锁坏了"),
    "visiting": ("独居，希望每周有人上门陪伴聊天", "老人想有人陪着说说话", "节日前后上门探望"),
    "care": ("需要协助翻身和洗浴", "术后需要生活照料", "夜间需要有人陪护"),
    "errands": ("需要帮忙代购米面油", "每周代买蔬菜", "帮忙取药和买日用品"),
    "day_care": ("白天无人照看，希望去日间照料中心", "需要接送去日间照料中心"),
    "meals": ("化疗期间需要送餐", "行动不便，需要送午餐", "每天一顿热饭"),
    "cleaning": ("家里需要大扫除", "清理阳台杂物", "需要帮忙清洗被褥"),
    "medical_escort": ("每月去医院复查，需要陪同", "需要陪同去医院透析", "陪同配药和取报告"),
}
GENERIC_NEED = "需要志愿者上门帮助"
NEED_MET = ("已由志愿者定期上门解决", "问题已解决，居民满意", "已链接社会组织长期服务")
MEASURES = ("志愿者上门服务", "链接慈善资源，发放生活物资", "申请临时救助", "安排一帮一结对", "协调医疗救助")
NOT_HELPED = ("家属已照料，暂不需要", "居民婉拒帮扶", "已由其他部门帮扶")
FOLLOW_UPS = (
    "电话回访，表示满意",
    "入户回访，生活情况稳定",
    "回访时老人精神状态良好",
    "电话回访，希望继续服务",
)
REVIEW_NOTES = ("情况无变化", "收入无明显变化，继续帮扶", "健康状况稳定")
CHANGE_NOTES = ("收入改善，调整类别", "家庭情况变化，调整类别")
EXIT_REASONS = ("家庭收入提高，退出", "迁出本市", "户主去世", "子女就业，家庭经济好转")
REENTRY_REASONS = ("重新申请，经核实符合条件", "家庭成员重病，重新纳入")
REJECT_NOTES = ("收入超过标准", "材料不全，不予通过", "不符合条件")
REVOKE_NOTES = ("家庭收入改善", "情况变化，不再符合条件")
CAUSE_NOTES = ("", "", "入户核实", "邻居反映")
CONSENT_SCOPE = "身份证号、健康和收入信息，用于帮扶和复审"
CANCEL_REASONS = ("居民临时外出", "居民住院", "家属已安排", "天气原因改期")
RELEASE_REASONS = ("临时有事，来不了", "工作加班", "身体不适")
THANKS = (
    "小伙子干活很细致，谢谢！",
    "陪我聊了很久，心里暖暖的。",
    "厨房打扫得很干净，太感谢了。",
    "帮我把药都分好了，非常贴心。",
    "准时到，服务周到。",
    "",
    "",
    "",
)
CALL_NOTES = ("电话回访：老人说服务很好", "电话回访：服务已完成", "电话回访：居民表示满意")
LOW_RATING_NOTES = ("迟到了很久", "服务不太认真", "")
REVERSAL_REASONS = ("回访核实未实际服务", "重复登记的服务", "居民投诉未到场")
HELP_NEEDS = (
    "家里水管坏了",
    "老人一个人在家，需要人看看",
    "想申请送餐服务",
    "需要有人帮忙买药",
    "孩子需要辅导",
)
PROXY_RELATIONS = ("女儿", "儿子", "侄子", "外甥女", "孙子")
EXPIRED_NOTE = "服务时间已过，没有志愿者认领名额。"
NO_SHOW_NOTE = "服务开始后30分钟内未签到。"
REGIONS = ("371002", "371003", "371082", "371083")  # Weihai districts (seed 002)

VOCABULARIES = [value for name, value in dict(globals()).items() if name.isupper() and name != "REGIONS"]


def person_name(rng: Random, elder: bool = False) -> str:
    """A Chinese name: one (sometimes two) surname characters and a given name."""
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.02 else rng.choice(SURNAMES)
    if elder and rng.random() < 0.5:
        return surname + rng.choice(ELDER_GIVEN)
    given = rng.choice(GIVEN) if rng.random() < 0.3 else rng.choice(GIVEN) + rng.choice(GIVEN)
    return surname + given


def distinct_names(rng: Random, words: list[str] | tuple[str, ...], count: int, suffix: str) -> list[str]:
    """`count` different names from `words` (numbered once the words run out)."""
    pool = list(words)
    rng.shuffle(pool)
    return [
        f"{pool[i % len(pool)]}{'' if i < len(pool) else i // len(pool) + 1}{suffix}" for i in range(count)
    ]


class IdNumbers:
    """Checksum-valid, distinct resident ID numbers (the people are not real)."""

    def __init__(self):
        self._taken: dict[tuple[str, date, bool], int] = {}

    def make(self, region: str, birth: date, male: bool) -> str:
        key = (region, birth, male)
        serial = self._taken.get(key, 0)
        self._taken[key] = serial + 1
        if serial >= 500:
            raise ValueError("too many people born on one day in one district")
        sequence = f"{serial * 2 + (1 if male else 0):03d}"
        first17 = f"{region}{birth:%Y%m%d}{sequence}"
        return first17 + check_digit(first17)


def token(rng: Random, length: int, alphabet: str) -> str:
    """`length` characters of `alphabet`, from one draw of random bits (a choice per character is slow)."""
    base, number = len(alphabet), rng.getrandbits(6 * length + 8)
    chars = []
    for _ in range(length):
        number, digit = divmod(number, base)
        chars.append(alphabet[digit])
    return "".join(chars)


URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def dump_json(value) -> str:
    """JSON as stored, with Chinese as it is (COPY text would read the backslash of \\u escapes)."""
    return json.dumps(value, ensure_ascii=False)
