package grid

// Mass returns the integral of the density p over the grid: sum p_l V_l.
func (g *Grid) Mass(p []float64) float64 {
	if len(p) != g.n {
		panic("grid: wrong density length")
	}
	s := 0.0
	g.forVolumes(func(l int, v float64) { s += p[l] * v })
	return s
}

// Moments returns the mass of the density p and writes its mean vector
// (length Dim) and covariance matrix (Dim×Dim, row-major) into mean and cov,
// normalised by the mass. Cell averages are taken at the cell centres, so the
// covariance carries the midpoint-rule error O(h²) of the grid. mean and cov
// may be nil to skip them.
func (g *Grid) Moments(p, mean, cov []float64) (mass float64) {
	d := g.Dim()
	if len(p) != g.n {
		panic("grid: wrong density length")
	}
	if mean != nil && len(mean) != d || cov != nil && len(cov) != d*d {
		panic("grid: wrong moment lengths")
	}
	var m1 [8]float64
	s1 := m1[:0]
	if d <= len(m1) {
		s1 = m1[:d]
	} else {
		s1 = make([]float64, d)
	}
	var x [8]float64
	xs := x[:0]
	if d <= len(x) {
		xs = x[:d]
	} else {
		xs = make([]float64, d)
	}
	g.forVolumes(func(l int, v float64) {
		w := p[l] * v
		mass += w
		g.Centre(xs, l)
		for k := range s1 {
			s1[k] += w * xs[k]
		}
	})
	if mean == nil && cov == nil {
		return mass
	}
	mu := s1
	for k := range mu {
		mu[k] /= mass
	}
	if mean != nil {
		copy(mean, mu)
	}
	if cov == nil {
		return mass
	}
	clear(cov)
	g.forVolumes(func(l int, v float64) {
		w := p[l] * v
		g.Centre(xs, l)
		for i := 0; i < d; i++ {
			di := xs[i] - mu[i]
			for j := i; j < d; j++ {
				cov[i*d+j] += w * di * (xs[j] - mu[j])
			}
		}
	})
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			cov[i*d+j] /= mass
			cov[j*d+i] = cov[i*d+j]
		}
	}
	return mass
}

// forVolumes calls fn for every cell with its volume, in linear order.
func (g *Grid) forVolumes(fn func(l int, v float64)) {
	for l := 0; l < g.n; l++ {
		fn(l, g.Volume(l))
	}
}
