package audience

import "math"

// earthRadiusKm is the mean radius of the earth (IUGG), the usual choice
// for haversine distances; the error against the ellipsoid stays under 0.5%.
const earthRadiusKm = 6371.0088

// near evaluates a location condition over the latitude and longitude
// traits, or address.latitude and address.longitude when those are absent.
func (e *evaluator) near(c *Condition) outcome {
	lat, lon, ok := location(e.s)
	var dist float64
	var o outcome
	if ok {
		dist = haversineKm(lat, lon, c.Near.Lat, c.Near.Lon)
		o.value = dist <= c.Near.Km
	}
	if x := e.annotate(c, &o); x != nil {
		if ok {
			d := dist // a copy, so that dist itself stays on the stack
			x.DistanceKm = &d
		} else {
			x.Missing = true
		}
	}
	return o
}

func location(s Subject) (lat, lon float64, ok bool) {
	for _, names := range [...][2]string{{"latitude", "longitude"}, {"address.latitude", "address.longitude"}} {
		la, ok1 := traitValue(s, names[0])
		lo, ok2 := traitValue(s, names[1])
		if !ok1 || !ok2 {
			continue
		}
		lat, ok1 = numberOf(&la)
		lon, ok2 = numberOf(&lo)
		if ok1 && ok2 && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
			return lat, lon, true
		}
	}
	return 0, 0, false
}

// haversineKm is the great-circle distance between two points in degrees.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(a)))
}
