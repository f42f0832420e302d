package data

// testFault, when not nil, is called before each low-level write of data
// ("append": a row appended to a series, "write": rows overwritten in place)
// and each flush ("flush"); an error it returns replaces the operation, as a
// full disk or an I/O error would. Only tests of this package set it: it
// lets them check what a writer does when the disk fails under it.
var testFault func(op string) error

func fault(op string) error {
	if testFault == nil {
		return nil
	}
	return testFault(op)
}
