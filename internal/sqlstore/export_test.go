package sqlstore

// PruneCut is pruneCut, for the query plan test.
const PruneCut = pruneCut
