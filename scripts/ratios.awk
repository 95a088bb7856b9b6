# Medians of go test -bench output, and each BenchmarkWire figure as a
# ratio to BenchmarkWire/floor (and to BenchmarkWire/naive where there is
# one) of the same package, from the same run:
#
#   go test -run '^$' -bench 'Wire|Baseline|HandlerClientCredentials' -count 6 -cpu 1 . | tee run.txt
#   awk -f scripts/ratios.awk run.txt
/^pkg: / { pkg = $2 }
/^Benchmark.* ns\/op/ {
	n = $1; sub(/-[0-9]+$/, "", n); n = pkg " " n
	if (!(n in count)) order[++k] = n
	v[n, ++count[n]] = $3
}
END {
	for (i = 1; i <= k; i++) {
		n = order[i]; m = count[n]
		for (a = 1; a <= m; a++) s[a] = v[n, a]
		for (a = 2; a <= m; a++) for (b = a; b > 1 && s[b] < s[b-1]; b--) { t = s[b]; s[b] = s[b-1]; s[b-1] = t }
		med[n] = m % 2 ? s[(m+1)/2] : (s[m/2] + s[m/2+1]) / 2
	}
	for (i = 1; i <= k; i++) {
		n = order[i]; split(n, p, " ")
		printf "%-50s %14.0f ns/op", p[2], med[n]
		if (p[2] ~ /^BenchmarkWire\//) {
			# ALG/GRANT is read against floor/GRANT (else floor/client_credentials) and ALG/naive.
			q = p[2]; sub(/^BenchmarkWire\//, "", q); split(q, part, "/")
			f = p[1] " BenchmarkWire/floor/" part[2]
			if (!(f in med)) f = p[1] " BenchmarkWire/floor/client_credentials"
			if (!(f in med)) f = p[1] " BenchmarkWire/floor"
			nv = p[1] " BenchmarkWire/" part[1] "/naive"
			if (f in med) printf "  %7.2fx floor", med[n] / med[f]
			if (nv in med) printf "  %7.2fx naive", med[n] / med[nv]
		}
		printf "  (%s, n=%d)\n", p[1], count[n]
	}
}
