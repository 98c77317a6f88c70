# Helpers shared by the report stages of bench/compare.sh and bench/net_compare.sh
# (loaded with `awk -f bench/lib.awk -f report.awk`; mawk has no asort and no @include).

# The median of a[1..k] (numbers), or "" when k == 0. Sorts a in place.
function median_of(a, k,    i, j, t) {
    if (k == 0) return ""
    for (i = 2; i <= k; i++) {          # insertion sort: a handful of repetitions
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
    }
    return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}

# A figure with about four significant digits, "-" when missing.
function fmt(v,    av) {
    if (v == "") return "-"
    av = v < 0 ? -v : v
    if (av >= 1000) return sprintf("%.0f", v)
    if (av >= 100)  return sprintf("%.1f", v)
    if (av >= 10)   return sprintf("%.2f", v)
    if (av >= 1)    return sprintf("%.3f", v)
    return sprintf("%.4g", v)
}
