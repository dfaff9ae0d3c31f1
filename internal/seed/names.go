package seed

import (
	"math/rand/v2"
	"strings"
)

// Name is an invented person's name: the Latin form (as in a passport's
// machine-readable zone) and, where the nationality writes names in another
// form, the native one.
type Name struct {
	Family, Given             string
	FamilyNative, GivenNative string
}

// syllable is one name element in Latin transcription and native script.
type syllable struct{ latin, native string }

// Chinese surnames and given-name characters (pinyin, simplified script).
// Names are random combinations of them, so they name nobody in particular.
var (
	cnFamily = []syllable{
		{"Wang", "王"}, {"Li", "李"}, {"Zhang", "张"}, {"Liu", "刘"}, {"Chen", "陈"}, {"Yang", "杨"},
		{"Huang", "黄"}, {"Zhao", "赵"}, {"Wu", "吴"}, {"Zhou", "周"}, {"Xu", "徐"}, {"Sun", "孙"},
		{"Ma", "马"}, {"Zhu", "朱"}, {"Hu", "胡"}, {"Guo", "郭"}, {"He", "何"}, {"Lin", "林"},
		{"Luo", "罗"}, {"Gao", "高"}, {"Zheng", "郑"}, {"Liang", "梁"}, {"Xie", "谢"}, {"Tang", "唐"},
		{"Song", "宋"}, {"Deng", "邓"}, {"Feng", "冯"}, {"Han", "韩"}, {"Cao", "曹"}, {"Peng", "彭"},
		{"Zeng", "曾"}, {"Xiao", "肖"}, {"Tian", "田"}, {"Dong", "董"}, {"Pan", "潘"}, {"Yuan", "袁"},
		{"Cai", "蔡"}, {"Jiang", "蒋"}, {"Yu", "余"}, {"Du", "杜"}, {"Ye", "叶"}, {"Cheng", "程"},
		{"Wei", "魏"}, {"Su", "苏"}, {"Lyu", "吕"}, {"Ding", "丁"}, {"Ren", "任"}, {"Shen", "沈"},
	}
	cnGivenMale = []syllable{
		{"wei", "伟"}, {"qiang", "强"}, {"lei", "磊"}, {"jun", "军"}, {"yong", "勇"}, {"jie", "杰"},
		{"tao", "涛"}, {"ming", "明"}, {"chao", "超"}, {"gang", "刚"}, {"hua", "华"}, {"jian", "建"},
		{"guo", "国"}, {"wen", "文"}, {"hui", "辉"}, {"bin", "斌"}, {"yu", "宇"}, {"hao", "浩"},
		{"peng", "鹏"}, {"hai", "海"}, {"zhi", "志"}, {"kai", "凯"}, {"xin", "鑫"}, {"liang", "亮"},
		{"feng", "峰"}, {"dong", "东"}, {"cheng", "成"}, {"long", "龙"}, {"bo", "波"}, {"fei", "飞"},
	}
	cnGivenFemale = []syllable{
		{"fang", "芳"}, {"na", "娜"}, {"min", "敏"}, {"jing", "静"}, {"li", "丽"}, {"yan", "艳"},
		{"xiu", "秀"}, {"xia", "霞"}, {"ping", "平"}, {"gui", "桂"}, {"ting", "婷"}, {"xue", "雪"},
		{"lin", "琳"}, {"yu", "玉"}, {"hong", "红"}, {"lan", "兰"}, {"mei", "梅"}, {"chun", "春"},
		{"hui", "慧"}, {"ying", "英"}, {"qian", "倩"}, {"yue", "悦"}, {"xiao", "晓"}, {"juan", "娟"},
	}
)

// Vietnamese names: the native form carries the diacritics, the Latin form
// is the passport's ASCII spelling.
var (
	vnFamily = []syllable{
		{"Nguyen", "Nguyễn"}, {"Tran", "Trần"}, {"Le", "Lê"}, {"Pham", "Phạm"}, {"Hoang", "Hoàng"},
		{"Huynh", "Huỳnh"}, {"Phan", "Phan"}, {"Vu", "Vũ"}, {"Vo", "Võ"}, {"Dang", "Đặng"},
		{"Bui", "Bùi"}, {"Do", "Đỗ"}, {"Ho", "Hồ"}, {"Ngo", "Ngô"}, {"Duong", "Dương"}, {"Ly", "Lý"},
	}
	vnMiddleMale   = []syllable{{"Van", "Văn"}, {"Duc", "Đức"}, {"Minh", "Minh"}, {"Huu", "Hữu"}, {"Quang", "Quang"}, {"Thanh", "Thanh"}}
	vnMiddleFemale = []syllable{{"Thi", "Thị"}, {"Ngoc", "Ngọc"}, {"Thu", "Thu"}, {"Kim", "Kim"}, {"Thanh", "Thanh"}}
	vnGivenMale    = []syllable{
		{"An", "An"}, {"Binh", "Bình"}, {"Cuong", "Cường"}, {"Dung", "Dũng"}, {"Hai", "Hải"}, {"Hung", "Hùng"},
		{"Khoa", "Khoa"}, {"Long", "Long"}, {"Nam", "Nam"}, {"Phong", "Phong"}, {"Quan", "Quân"},
		{"Son", "Sơn"}, {"Thang", "Thắng"}, {"Tuan", "Tuấn"}, {"Viet", "Việt"}, {"Duy", "Duy"}, {"Tai", "Tài"},
	}
	vnGivenFemale = []syllable{
		{"Anh", "Anh"}, {"Ha", "Hà"}, {"Hanh", "Hạnh"}, {"Hoa", "Hoa"}, {"Huong", "Hương"}, {"Lan", "Lan"},
		{"Linh", "Linh"}, {"Mai", "Mai"}, {"Nhung", "Nhung"}, {"Phuong", "Phương"}, {"Thao", "Thảo"},
		{"Trang", "Trang"}, {"Vy", "Vy"}, {"Yen", "Yến"},
	}
)

// English-language names for the US and Australian nationals.
var (
	enFamily = []string{
		"Smith", "Johnson", "Brown", "Taylor", "Wilson", "Anderson", "Thompson", "Walker", "Harris",
		"Martin", "Clarke", "Mitchell", "Kelly", "Campbell", "Robinson", "Hughes", "Edwards", "Baker",
		"Turner", "Parker", "Collins", "Stewart", "Morris", "Murphy", "Cooper", "Bennett", "Reid",
	}
	enGivenMale   = []string{"James", "Michael", "Daniel", "Matthew", "Ryan", "Jack", "Liam", "Thomas", "Nathan", "Joshua", "Andrew", "Ethan"}
	enGivenFemale = []string{"Sarah", "Emma", "Olivia", "Chloe", "Jessica", "Emily", "Hannah", "Grace", "Megan", "Lauren", "Amy"}
)

// Generic syllables for every other nationality: pronounceable, plainly
// invented names in Latin script.
var (
	genOnset = []string{"b", "d", "k", "l", "m", "n", "p", "r", "s", "t", "v", "h", "j", "ch", "sh", "th", "kh", "ng"}
	genVowel = []string{"a", "e", "i", "o", "u", "ai", "ao", "ia", "ei", "ou"}
	genCoda  = []string{"", "", "", "n", "m", "ng", "r", "s", "t", "k"}
)

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// PersonName invents a name for a person of the given nationality and sex
// ("female" or anything else for male forms).
func PersonName(r *rand.Rand, nationality, sex string) Name {
	female := sex == "female"
	switch nationality {
	case "CN":
		fam := pick(r, cnFamily)
		given := cnGivenMale
		if female {
			given = cnGivenFemale
		}
		g1 := pick(r, given)
		n := Name{Family: fam.latin, FamilyNative: fam.native, Given: capitalise(g1.latin), GivenNative: g1.native}
		if r.IntN(3) > 0 { // most given names have two characters
			g2 := pick(r, given)
			n.Given = capitalise(g1.latin + g2.latin)
			n.GivenNative = g1.native + g2.native
		}
		return n
	case "VN":
		fam := pick(r, vnFamily)
		mid, given := vnMiddleMale, vnGivenMale
		if female {
			mid, given = vnMiddleFemale, vnGivenFemale
		}
		m, g := pick(r, mid), pick(r, given)
		return Name{Family: fam.latin, FamilyNative: fam.native,
			Given: m.latin + " " + g.latin, GivenNative: m.native + " " + g.native}
	case "US", "AU", "GB", "CA", "NZ", "IE":
		given := enGivenMale
		if female {
			given = enGivenFemale
		}
		return Name{Family: pick(r, enFamily), Given: pick(r, given)}
	default:
		return Name{Family: genericWord(r, 2+r.IntN(2)), Given: genericWord(r, 2+r.IntN(2))}
	}
}

func genericWord(r *rand.Rand, syllables int) string {
	var b strings.Builder
	for range syllables {
		b.WriteString(pick(r, genOnset))
		b.WriteString(pick(r, genVowel))
		b.WriteString(pick(r, genCoda))
	}
	return capitalise(b.String())
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
