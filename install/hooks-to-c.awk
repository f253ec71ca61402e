# Turn the hook scripts in hooks/ into C string literals, so the binary
# installs exactly the files of the source tree (no second copy):
#
#	awk -f install/hooks-to-c.awk hooks/pre-commit ... >hooks.h
#
# Prints an initialiser list of {"NAME", "TEXT"} pairs, NAME being the
# file's base name. Every byte that is special in a C string is escaped,
# "?" too (trigraphs are on under -std=c17).
function escape(s,    out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\")
			out = out "\\\\"
		else if (c == "\"")
			out = out "\\\""
		else if (c == "\t")
			out = out "\\t"
		else if (c == "?")
			out = out "\\?"
		else if (c == "\r")
			out = out "\\r"
		else
			out = out c
	}
	return out
}
BEGIN {
	print "/* Generated from the hooks/ folder by install/hooks-to-c.awk: do not edit. */"
}
FNR == 1 {
	if (NR > 1)
		print "\t},"
	name = FILENAME
	sub(/.*\//, "", name)
	printf "\t{\"%s\",\n", escape(name)
}
{
	printf "\t\t\"%s\\n\"\n", escape($0)
}
END {
	if (NR > 0)
		print "\t},"
}
