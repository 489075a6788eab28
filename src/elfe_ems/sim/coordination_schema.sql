-- The coordination database of the ELFE installation, written from spec docs/spec/elfe.md §1 (every
-- table and column it lists). Column types the spec gives are kept (serial, int, bool, text);
-- where it gives none they are guesses, some deliberately numeric or real so that the reader
-- is tested against more than integers. Tables are unqualified: the test fixtures create a
-- non-public schema and run this file with search_path set to it; `ems demo` runs it on SQLite
-- (where `serial` is a plain integer column: every row is inserted with its id).

CREATE TABLE equipement_pilote_ou_mesure (
    id serial PRIMARY KEY,
    equipement_pilote_specifique_id int,
    equipement_pilote_ou_mesure_type_id int,
    equipement_pilote_ou_mesure_mode_id int,
    etat_controle_id int,
    etat_commande_id int,
    nom_humain text,
    description text,
    utilisateur text,
    typologie_installation_domotique_id int,
    ems_consigne_marche bool,
    timestamp_derniere_mise_en_marche int,
    timestamp_derniere_programmation int
);

CREATE TABLE equipement_pilote_machine_generique (
    id serial PRIMARY KEY,
    equipement_pilote_ou_mesure_id int REFERENCES equipement_pilote_ou_mesure (id),
    timestamp_de_fin_souhaite int,
    delai_attente_maximale_apres_fin int,
    cycle_equipement_pilote_machine_generique_id int,  -- no foreign key: may dangle
    mesures_puissance_elec_id int
);

CREATE TABLE equipement_pilote_machine_generique_cycle (
    id serial PRIMARY KEY,
    equipement_pilote_machine_generique_id int
        REFERENCES equipement_pilote_machine_generique (id),
    duree_cycle int,
    nom text,
    description text,
    timestamp_dernier_declenchement int
);

CREATE TABLE equipement_pilote_ballon_ecs (
    id serial PRIMARY KEY,
    equipement_pilote_ou_mesure_id int REFERENCES equipement_pilote_ou_mesure (id),
    volume_ballon numeric(7, 1),
    puissance_chauffe int,
    mesures_puissance_elec_id int
);

CREATE TABLE equipement_pilote_ballon_ecs_heures_creuses (
    id serial PRIMARY KEY,
    equipement_pilote_ballon_ecs_id int REFERENCES equipement_pilote_ballon_ecs (id),
    nom text,
    description text,
    actif bool,
    debut int,
    fin int
);

CREATE TABLE equipement_pilote_vehicule_electrique_generique (
    id serial PRIMARY KEY,
    equipement_pilote_ou_mesure_id int REFERENCES equipement_pilote_ou_mesure (id),
    pourcentage_charge_restant real,
    pourcentage_charge_finale_minimale_souhaitee int,
    duree_de_charge_estime int,
    timestamp_dispo_souhaitee int,
    puissance_de_charge int,
    capacite_de_batterie int,
    mesures_puissance_elec_id int
);

CREATE TABLE chauffage_asservi_modele_thermique (
    id serial PRIMARY KEY,
    nom text,
    description text
);

CREATE TABLE equipement_pilote_chauffage_asservi (
    id serial PRIMARY KEY,
    equipement_pilote_ou_mesure_id int REFERENCES equipement_pilote_ou_mesure (id),
    temperature_eco int,
    temperature_confort int,
    prog_semaine_periode_1_confort_actif bool,
    prog_semaine_periode_1_heure_debut int,
    prog_semaine_periode_1_heure_fin int,
    prog_semaine_periode_2_confort_actif bool,
    prog_semaine_periode_2_heure_debut int,
    prog_semaine_periode_2_heure_fin int,
    prog_weekend_periode_1_confort_actif bool,
    prog_weekend_periode_1_heure_debut int,
    prog_weekend_periode_1_heure_fin int,
    prog_weekend_periode_2_confort_actif bool,
    prog_weekend_periode_2_heure_debut int,
    prog_weekend_periode_2_heure_fin int,
    delta_temp_maximale_temp_demandee int,
    puissance int,
    modele_thermique_id int REFERENCES chauffage_asservi_modele_thermique (id),
    mesures_puissance_elec_id int,
    mesure_temperature_id int
);

CREATE TABLE equipement_pilote_chauffage_non_asservi (
    id serial PRIMARY KEY,
    equipement_pilote_ou_mesure_id int REFERENCES equipement_pilote_ou_mesure (id),
    prog_semaine_periode_1_confort_actif bool,
    prog_semaine_periode_1_heure_debut int,
    prog_semaine_periode_1_heure_fin int,
    prog_semaine_periode_2_confort_actif bool,
    prog_semaine_periode_2_heure_debut int,
    prog_semaine_periode_2_heure_fin int,
    prog_weekend_periode_1_confort_actif bool,
    prog_weekend_periode_1_heure_debut int,
    prog_weekend_periode_1_heure_fin int,
    prog_weekend_periode_2_confort_actif bool,
    prog_weekend_periode_2_heure_debut int,
    prog_weekend_periode_2_heure_fin int,
    puissance_moyenne_eco int,
    puissance_moyenne_confort int,
    pourcentage_eco_force int,
    mesures_puissance_elec_id int
);
